// page_cache_test.cc: CachedShare, by cachestat and by its mincore fallback, on a file whose
// pages are all in memory and then none of them.
#include "os/page_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "base/unique_fd.h"
#include "test_util.h"

namespace pcopy {
namespace {

constexpr uint64_t kMiB = 1 << 20;

// A kernel without cachestat: mincore must answer instead.
class NoCachestat final : public SysCalls {
 public:
  int cachestat_pages(int, uint64_t, uint64_t, uint64_t*) const override {
    errno = ENOSYS;
    return -1;
  }
};

// A file system that can be neither asked nor mapped.
class NothingAnswers final : public SysCalls {
 public:
  int cachestat_pages(int, uint64_t, uint64_t, uint64_t*) const override {
    errno = ENOSYS;
    return -1;
  }
  void* mmap(void*, size_t, int, int, int, off_t) const override {
    errno = ENODEV;
    return MAP_FAILED;
  }
};

class PageCacheTest : public testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/f";
    test::MakeRandomFile(path_, size_, 7);  // just written: every page in the cache
    fd_ = UniqueFd(open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd_.valid());
  }
  // Writes the pages back and drops them, so none is cached.
  void Evict() {
    ASSERT_EQ(fdatasync(fd_.get()), 0);
    ASSERT_EQ(posix_fadvise(fd_.get(), 0, 0, POSIX_FADV_DONTNEED), 0);
  }
  void ExpectShare(const SysCalls& sys, const char* how, double low, double high) {
    const std::optional<CacheShare> share = CachedShare(sys, fd_.get(), size_);
    ASSERT_TRUE(share.has_value());
    EXPECT_STREQ(share->how, how);
    EXPECT_EQ(share->size, size_);
    EXPECT_LE(share->cached, size_);
    EXPECT_GE(share->fraction(), low);
    EXPECT_LE(share->fraction(), high);
  }

  test::TempDir dir_;
  std::string path_;
  uint64_t size_ = 8 * kMiB + 5;  // a partial last page
  UniqueFd fd_;
};

TEST_F(PageCacheTest, CachestatSeesAFileJustWrittenAndOneDropped) {
  uint64_t pages = 0;
  if (RealSysCalls().cachestat_pages(fd_.get(), 0, size_, &pages) != 0) {
    GTEST_SKIP() << "this kernel has no cachestat: " << strerror(errno);
  }
  ExpectShare(RealSysCalls(), "cachestat", 0.99, 1.0);
  Evict();
  ExpectShare(RealSysCalls(), "cachestat", 0, 0.01);
}

TEST_F(PageCacheTest, MincoreAnswersWithoutCachestat) {
  ExpectShare(NoCachestat(), "mincore", 0.99, 1.0);
  Evict();
  ExpectShare(NoCachestat(), "mincore", 0, 0.01);
}

// More windows than are sampled: the estimate still holds for a file all in, or all out.
TEST_F(PageCacheTest, MincoreSamplesALargeFile) {
  size_ = (kSampledWindows + 3) * kCacheWindow;
  const std::string big = dir_.path() + "/big";
  const UniqueFd fd(open(big.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_TRUE(fd.valid());
  ASSERT_EQ(ftruncate(fd.get(), static_cast<off_t>(size_)), 0);  // holes: nothing cached
  const std::optional<CacheShare> share = CachedShare(NoCachestat(), fd.get(), size_);
  ASSERT_TRUE(share.has_value());
  EXPECT_EQ(share->cached, 0u);
  EXPECT_EQ(share->size, size_);
}

TEST_F(PageCacheTest, NoAnswerWhereNothingAnswers) {
  EXPECT_FALSE(CachedShare(NothingAnswers(), fd_.get(), size_).has_value());
}

TEST_F(PageCacheTest, AnEmptyFileIsAllCached) {
  const std::optional<CacheShare> share = CachedShare(RealSysCalls(), fd_.get(), 0);
  ASSERT_TRUE(share.has_value());
  EXPECT_EQ(share->fraction(), 1.0);
}

}  // namespace
}  // namespace pcopy
