// share_check_test.cc: the shares of --verify and --print-digest that pcopy-mpi's ranks check
// (app/share_check.h), without MPI: the shares cover every leaf once, in order, whatever the
// rank count; joined, their digests are the tree digest pcopy computes alone; a rank whose share
// holds a damaged leaf copies it again; a damaged answer is refused.
#include "app/share_check.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "exec/parallel_digest.h"
#include "os/signal_guard.h"
#include "test_util.h"

namespace pcopy {
namespace {

using namespace pcopy::test;

std::string DigestOf(const std::string& path, uint64_t size) {
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  LeafReport report;
  const Status s = DigestLeaves({fd.get(), path}, {}, size, 0, {}, &report);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return TreeDigest(report.digests);
}

TEST(ShareCheck, SharesCoverEveryLeafOnceInOrder) {
  for (uint64_t size : {uint64_t{0}, uint64_t{1}, kLeafSize, 5 * kLeafSize + 1, 7 * kLeafSize}) {
    for (int ranks : {1, 2, 3, 5, 8}) {
      std::vector<uint64_t> all;
      for (int r = 0; r < ranks; ++r) {
        const std::vector<uint64_t> share = LeafShare(size, r, ranks);
        all.insert(all.end(), share.begin(), share.end());
      }
      const uint64_t leaves = (size + kLeafSize - 1) / kLeafSize;
      ASSERT_EQ(all.size(), leaves) << size << " bytes, " << ranks << " ranks";
      for (uint64_t i = 0; i < leaves; ++i) EXPECT_EQ(all[i], i);
    }
  }
}

class ShareCheckFiles : public testing::Test {
 protected:
  // Every rank's share checked in turn, as the ranks of one job would; the shares joined.
  std::string CheckAll(bool verify, int ranks, uint64_t* recopied_by_all,
                       std::vector<uint64_t>* recopied_by_rank) {
    Options o;
    o.source = src_;
    o.dest = dst_;
    o.verify = verify;
    const UniqueFd src(open(src_.c_str(), O_RDONLY | O_CLOEXEC));
    SignalGuard signals;
    std::vector<std::string> shares;
    for (int r = 0; r < ranks; ++r) {
      std::vector<Digest128> digests;
      uint64_t recopied = 0;
      const Status s =
          CheckShare(o, src.get(), dst_, size_, r, ranks, signals, &digests, &recopied);
      EXPECT_TRUE(s.ok()) << s.ToString();
      recopied_by_rank->push_back(recopied);
      shares.push_back(EncodeShare(digests, recopied));
    }
    std::vector<Digest128> joined;
    EXPECT_TRUE(JoinShares(shares, &joined, recopied_by_all));
    return TreeDigest(joined);
  }

  TempDir dir_;
  std::string src_ = dir_ / "src";
  std::string dst_ = dir_ / "dst";
  uint64_t size_ = 5 * kLeafSize + 7;
};

TEST_F(ShareCheckFiles, JoinedSharesAreTheDigestOfTheWholeFile) {
  MakeRandomFile(src_, size_, 11);
  MakeRandomFile(dst_, size_, 12);  // --print-digest alone digests the copy, not SOURCE
  for (int ranks : {1, 2, 3, 8}) {
    uint64_t recopied = 0;
    std::vector<uint64_t> by_rank;
    EXPECT_EQ(CheckAll(false, ranks, &recopied, &by_rank), DigestOf(dst_, size_)) << ranks;
    EXPECT_EQ(recopied, 0u);
  }
}

TEST_F(ShareCheckFiles, TheRankWhoseShareHoldsADamagedLeafCopiesItAgain) {
  MakeRandomFile(src_, size_, 13);
  WriteFile(dst_, ReadFile(src_));
  // One byte of leaf 3 damaged: with 3 ranks over 6 leaves, rank 1 checks leaves 2 and 3.
  const UniqueFd fd(open(dst_.c_str(), O_WRONLY | O_CLOEXEC));
  ASSERT_EQ(pwrite(fd.get(), "\xff\x00", 2, static_cast<off_t>(3 * kLeafSize + 100)), 2);
  ASSERT_FALSE(SameBytes(src_, dst_));
  uint64_t recopied = 0;
  std::vector<uint64_t> by_rank;
  EXPECT_EQ(CheckAll(true, 3, &recopied, &by_rank), DigestOf(src_, size_));
  EXPECT_EQ(recopied, 1u);
  EXPECT_EQ(by_rank, (std::vector<uint64_t>{0, 1, 0}));
  EXPECT_TRUE(SameBytes(src_, dst_));
}

TEST(ShareCheck, ADamagedShareIsRefused) {
  std::vector<Digest128> digests{{1, 2}, {3, 4}};
  std::string share = EncodeShare(digests, 5);
  std::vector<Digest128> joined;
  uint64_t recopied = 0;
  ASSERT_TRUE(JoinShares({share, EncodeShare({}, 1)}, &joined, &recopied));
  EXPECT_EQ(joined, digests);
  EXPECT_EQ(recopied, 6u);
  share.pop_back();
  EXPECT_FALSE(JoinShares({share}, &joined, &recopied));
  EXPECT_FALSE(JoinShares({"short"}, &joined, &recopied));
}

}  // namespace
}  // namespace pcopy
