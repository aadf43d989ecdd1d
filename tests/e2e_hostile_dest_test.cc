// e2e_hostile_dest_test.cc: the real pcopy binary with others at DEST: two pcopy runs racing
// into one DEST, and a reader polling DEST during the copy. DEST is only ever absent, the old
// file or one complete new copy, and no temporary is left.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

// ---------------------------------------------------------------------------------------------
// Two pcopy runs into the same DEST at once: each renames its own complete temporary, so DEST
// ends as one source or the other, never a mix, and neither leaves a temporary.

TEST(E2eHostile, TwoCopiesIntoOneDest) {
  TempDir t, in;
  const std::string a = in / "a", b = in / "b", dst = t / "dst";
  MakeRandomFile(a, 32 * kMiB, 69);
  MakeRandomFile(b, 32 * kMiB, 70);
  const std::string bytes_a = ReadFile(a), bytes_b = ReadFile(b);
  // Unthrottled rounds race freely; the throttled one makes sure both run at the same time.
  const std::vector<std::vector<std::string>> variants = {
      {}, {}, {}, {"--bwlimit", "64M"}, {"--strategy", "contiguous", "--bwlimit", "64M"}};
  for (size_t round = 0; round < variants.size(); ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<std::string> args_a = {"-j", "2"}, args_b = {"-j", "2"};
    args_a.insert(args_a.end(), variants[round].begin(), variants[round].end());
    args_b.insert(args_b.end(), variants[round].begin(), variants[round].end());
    args_a.insert(args_a.end(), {a, dst});
    args_b.insert(args_b.end(), {b, dst});
    PcopyProcess pa(args_a);
    PcopyProcess pb(args_b);
    if (!variants[round].empty()) {
      ASSERT_EQ(WaitForNWorkers(pa, 2).size(), 2u);
      ASSERT_EQ(WaitForNWorkers(pb, 2).size(), 2u);
      EXPECT_TRUE(pa.Running() && pb.Running()) << "the two copies did not overlap";
    }
    const RunResult ra = FinishWithin(pa);
    const RunResult rb = FinishWithin(pb);
    EXPECT_EQ(ra.exit_code, 0) << ra.err;
    EXPECT_EQ(rb.exit_code, 0) << rb.err;
    EXPECT_EQ(ra.err, "");
    EXPECT_EQ(rb.err, "");
    const std::string got = ReadFile(dst);
    EXPECT_TRUE(got == bytes_a || got == bytes_b)
        << "DEST (" << got.size() << " bytes) is neither source";
    EXPECT_EQ(t.List(), std::vector<std::string>{"dst"});
    EXPECT_TRUE(Temporaries(t.path()).empty());
  }
  EXPECT_TRUE(ReadFile(a) == bytes_a);
  EXPECT_TRUE(ReadFile(b) == bytes_b);
}

// ---------------------------------------------------------------------------------------------
// A reader polling DEST during the copy never sees a partial file: DEST is absent (or the old
// file) until the rename, then the complete new one.

struct Content {
  uint64_t size = 0;
  std::string head;  // the first 1 MiB (all of it if smaller)
  std::string tail;  // the last 4 KiB
};

Content Describe(const std::string& bytes) {
  Content c;
  c.size = bytes.size();
  c.head = bytes.substr(0, kMiB);
  c.tail = bytes.substr(bytes.size() - std::min<size_t>(bytes.size(), 4096));
  return c;
}

// Which of the contents the open file fd holds (0, 1, ...), or -1 if none entirely.
int Identify(int fd, const std::vector<Content>& candidates, std::string* why) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    *why = std::string("fstat: ") + strerror(errno);
    return -1;
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Content& c = candidates[i];
    if (size != c.size) continue;
    std::string head(c.head.size(), '\0'), tail(c.tail.size(), '\0');
    const ssize_t h = pread(fd, head.data(), head.size(), 0);
    const ssize_t e =
        pread(fd, tail.data(), tail.size(), static_cast<off_t>(c.size - c.tail.size()));
    if (h == static_cast<ssize_t>(head.size()) && e == static_cast<ssize_t>(tail.size()) &&
        head == c.head && tail == c.tail) {
      return static_cast<int>(i);
    }
    *why = "size " + std::to_string(size);
    why->append(" matches content ").append(std::to_string(i)).append(" but the bytes do not");
    return -1;
  }
  *why = "size " + std::to_string(size) + " matches no content";
  return -1;
}

class E2eHostileReader : public testing::TestWithParam<bool> {};

TEST_P(E2eHostileReader, NeverSeesPartialDest) {
  const bool dest_existed = GetParam();
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 32 * kMiB + 4095, 71);
  const std::string new_bytes = ReadFile(src);
  std::vector<Content> candidates = {Describe(new_bytes)};  // 0: new
  if (dest_existed) {
    MakeRandomFile(dst, 8 * kMiB + 123, 72);
    candidates.push_back(Describe(ReadFile(dst)));  // 1: old
  }

  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> failures;
  int absent = 0, seen_old = 0, seen_new = 0;
  std::thread reader([&] {
    bool new_seen = false;
    while (!stop.load()) {
      const int fd = open(dst.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        const int err = errno;
        std::lock_guard<std::mutex> lock(mu);
        if (err != ENOENT) {
          failures.push_back(std::string("open: ") + strerror(err));
        } else if (dest_existed) {
          failures.push_back("DEST vanished during the copy");
        } else if (new_seen) {
          failures.push_back("DEST vanished after it appeared");
        } else {
          ++absent;
        }
        continue;
      }
      std::string why;
      const int which = Identify(fd, candidates, &why);
      close(fd);
      std::lock_guard<std::mutex> lock(mu);
      if (which < 0) {
        failures.push_back("a partial or mixed DEST: " + why);
      } else if (which == 0) {
        new_seen = true;
        ++seen_new;
      } else if (new_seen) {
        failures.push_back("the old DEST came back after the new one");
      } else {
        ++seen_old;
      }
      if (failures.size() > 10) break;
    }
  });

  PcopyProcess p({"--bwlimit", "64M", "-j", "2", src, dst});
  const RunResult r = FinishWithin(p);
  // The reader goes on until it has read the final DEST (or given up on too many failures).
  EXPECT_TRUE(WaitUntil("the reader to see the finished DEST", [&] {
    std::lock_guard<std::mutex> lock(mu);
    return seen_new > 0 || failures.size() > 10;
  }));
  stop = true;
  reader.join();

  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(failures.empty()) << testing::PrintToString(failures);
  EXPECT_GT(dest_existed ? seen_old : absent, 0) << "the reader never looked during the copy";
  EXPECT_GT(seen_new, 0) << "the reader never saw the finished DEST";
  EXPECT_TRUE(ReadFile(dst) == new_bytes);
  EXPECT_TRUE(ReadFile(src) == new_bytes);
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
}

std::string ReaderName(const testing::TestParamInfo<bool>& p) {
  return p.param ? "OverOldDest" : "NewDest";
}

INSTANTIATE_TEST_SUITE_P(E2eHostile, E2eHostileReader, testing::Values(false, true), ReaderName);

}  // namespace
}  // namespace pcopy::test
