// verify_test.cc: --verify, --compare and --checksum; and the re-copy of a corrupted leaf,
// through a fake pwrite that damages what the workers write.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "app/check_job.h"
#include "app/copy_job.h"
#include "app/verify_copy.h"
#include "copy/digest.h"
#include "exec/parallel_digest.h"
#include "test_util.h"

namespace pcopy {
namespace {

using test::ReadFile;
using test::RunPcopy;
using test::RunResult;
using test::SameBytes;
using test::TempDir;
using test::Temporaries;

constexpr uint64_t kMiB = 1 << 20;

std::string DigestOf(const RunResult& r) { return r.out.substr(0, r.out.find(' ')); }

TEST(VerifyTest, ChecksumDoesNotDependOnJobsOrStrategy) {
  TempDir t;
  const std::string src = t / "src";
  test::MakeRandomFile(src, 5 * kMiB + 77, 3);
  const RunResult base = RunPcopy({"--checksum", src});
  ASSERT_EQ(base.exit_code, 0) << base.err;
  const std::string digest = DigestOf(base);
  ASSERT_EQ(digest.size(), 32u) << base.out;
  EXPECT_EQ(base.out, digest + "  " + src + "\n");
  for (const char* jobs : {"1", "2", "7"}) {
    for (const char* strategy : {"contiguous", "dynamic"}) {
      const std::string dst = t / (std::string("dst-") + jobs + strategy);
      const RunResult r =
          RunPcopy({"--print-digest", "-j", jobs, "--strategy", strategy, src, dst});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(DigestOf(r), digest) << jobs << " " << strategy;
      EXPECT_TRUE(SameBytes(src, dst));
    }
  }
  test::WriteFile(t / "other", "a different file");
  EXPECT_NE(DigestOf(RunPcopy({"--checksum", t / "other"})), digest);
}

TEST(VerifyTest, VerifiedCopySaysSo) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  test::MakeRandomFile(src, 3 * kMiB + 1, 4);
  const RunResult r = RunPcopy({"-v", "--verify", "--print-digest", src, dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(SameBytes(src, dst));
  EXPECT_NE(r.err.find("verified against"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find(DigestOf(RunPcopy({"--checksum", src}))), std::string::npos) << r.out;
}

TEST(VerifyTest, CompareExitCodesAndFirstDifference) {
  TempDir t;
  const std::string a = t / "a", b = t / "b", shorter = t / "short";
  test::MakeRandomFile(a, 3 * kMiB + 5, 5);
  std::string bytes = ReadFile(a);
  test::WriteFile(b, bytes);
  RunResult r = RunPcopy({"--compare", a, b});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  bytes[2 * kMiB + 12345] ^= 1;
  bytes[2 * kMiB + 99999] ^= 1;
  test::WriteFile(b, bytes);
  r = RunPcopy({"--compare", a, b});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("first difference at byte offset " + std::to_string(2 * kMiB + 12345)),
            std::string::npos)
      << r.out;
  test::WriteFile(shorter, ReadFile(a).substr(0, 1000));
  r = RunPcopy({"--compare", a, shorter});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("offset 1000 (one file is shorter)"), std::string::npos) << r.out;
  r = RunPcopy({"--compare", a, t / "missing"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
}

// The fake pwrite flips one byte of what lands at kDamageAt: in the workers only (the re-copy
// in the parent is then clean), or everywhere.
constexpr uint64_t kDamageAt = 1 * kMiB + 4321;
uint64_t g_damage_at = kDamageAt;
pid_t g_parent = 0;
bool g_damage_parent_too = false;

ssize_t DamagingPwrite(int fd, const void* buf, size_t count, off_t offset) {
  const auto start = static_cast<uint64_t>(offset);
  if ((getpid() != g_parent || g_damage_parent_too) && start <= g_damage_at &&
      g_damage_at < start + count) {
    std::string copy(static_cast<const char*>(buf), count);
    copy[g_damage_at - start] ^= 0x5a;
    return ::pwrite(fd, copy.data(), count, offset);
  }
  return ::pwrite(fd, buf, count, offset);
}

CopyOutcome CopyWithDamage(const std::string& src, const std::string& dst, bool parent_too,
                           uint64_t damage_at = kDamageAt) {
  class Damaging final : public SysCalls {
    ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) const override {
      return DamagingPwrite(fd, buf, count, offset);
    }
  } sys;
  g_parent = getpid();
  g_damage_parent_too = parent_too;
  g_damage_at = damage_at;
  Options o;
  o.source = src;
  o.dest = dst;
  o.jobs = 2;
  o.jobs_given = true;  // forked workers, whose writes the fake damages
  o.method = Method::kPread;
  o.verify = true;
  const CopyOutcome outcome = test::CopyInProcess(o, sys);
  return outcome;
}

TEST(VerifyTest, DamagedLeafIsCopiedAgain) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  test::MakeRandomFile(src, 3 * kMiB, 6);
  const CopyOutcome outcome = CopyWithDamage(src, dst, /*parent_too=*/false);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_TRUE(SameBytes(src, dst));
}

TEST(VerifyTest, PersistentDamageFailsAndPublishesNothing) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  test::MakeRandomFile(src, 3 * kMiB, 7);
  const CopyOutcome outcome = CopyWithDamage(src, dst, /*parent_too=*/true);
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_NE(outcome.status.ToString().find("verify '" + dst +
                                           "' at offset 1048576: bytes "
                                           "1048576-2097151 still differ"),
            std::string::npos)
      << outcome.status.ToString();
  EXPECT_FALSE(test::Exists(dst));
  EXPECT_TRUE(Temporaries(t.path()).empty());
}

// Leaf digests of a file, as --verify and --checksum compute them.
std::vector<Digest128> LeavesOf(const std::string& path, uint64_t size) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  LeafReport report;
  const Status s = DigestLeaves({fd, path}, {}, size, 2, {}, &report);
  close(fd);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return report.digests;
}

TEST(VerifyTest, StreamDigestsMatchTheFileDigestsWhateverThePieces) {
  TempDir t;
  const std::string path = t / "file";
  const uint64_t size = 2 * kMiB + kMiB / 2 + 3;
  test::MakeRandomFile(path, size, 8);
  const std::string bytes = ReadFile(path);
  const std::vector<Digest128> expected = LeavesOf(path, size);
  ASSERT_EQ(expected.size(), 3u);
  for (size_t piece : {size_t{1} << 20, size_t{100003}, size_t{4096}, bytes.size()}) {
    StreamDigests stream;
    for (size_t at = 0; at < bytes.size(); at += piece) {
      stream.Update(bytes.data() + at, std::min(piece, bytes.size() - at));
    }
    EXPECT_EQ(stream.Finish(), expected) << "pieces of " << piece;
    EXPECT_EQ(stream.Finish(), expected) << "Finish twice";
  }
  StreamDigests nothing;
  EXPECT_TRUE(nothing.Finish().empty());
}

TEST(VerifyTest, ReadOnceVerifyNamesTheFirstLeafThatDiffers) {
  TempDir t;
  const std::string dst = t / "dst";
  test::MakeRandomFile(dst, 3 * kMiB + 10, 9);
  std::string read = ReadFile(dst);
  Options o;
  o.source = "/proc/example";
  o.dest = dst;
  o.jobs = 2;
  const int fd = open(dst.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  {
    StreamDigests same;
    same.Update(read.data(), read.size());
    const Status s = VerifyReadOnce(o, fd, read.size(), same.Finish());
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  read[2 * kMiB + 17] ^= 1;
  StreamDigests other;
  other.Update(read.data(), read.size());
  const Status s = VerifyReadOnce(o, fd, read.size(), other.Finish());
  close(fd);
  EXPECT_EQ(s.ToString(), "verify '" + dst +
                              "' at offset 2097152: bytes 2097152-3145727 differ from what was "
                              "read from '/proc/example'");
}

TEST(VerifyTest, ProcSourceIsVerifiedAgainstWhatWasRead) {
  TempDir t;
  const std::string dst = t / "dst";
  const RunResult r = RunPcopy({"-v", "--verify", "--print-digest", "/proc/version", dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dst), ReadFile("/proc/version"));
  EXPECT_NE(r.err.find("pcopy: verified against the bytes read from '/proc/version' (read once: "
                       "its size is unknown)"),
            std::string::npos)
      << r.err;
  const RunResult sum = RunPcopy({"--checksum", dst});
  ASSERT_EQ(sum.exit_code, 0) << sum.err;
  // stdout: the digest line, then cp -v's line; -v's diagnostics are on stderr.
  EXPECT_EQ(r.out, DigestOf(sum) + "  " + dst + "\n'/proc/version' -> '" + dst + "'\n");
  EXPECT_TRUE(Temporaries(t.path()).empty());
}

TEST(VerifyTest, DamagedCopyOfAProcSourceFailsAndPublishesNothing) {
  // A /proc file is read once, by the parent: its damaged write cannot be re-copied.
  TempDir t;
  const std::string dst = t / "dst";
  const CopyOutcome outcome = CopyWithDamage("/proc/version", dst, /*parent_too=*/true, 10);
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  const std::string message = outcome.status.ToString();
  EXPECT_EQ(message.rfind("verify '" + dst + "' at offset 0: bytes 0-", 0), 0u) << message;
  EXPECT_NE(message.find(" differ from what was read from '/proc/version'"), std::string::npos)
      << message;
  EXPECT_FALSE(test::Exists(dst));
  EXPECT_TRUE(Temporaries(t.path()).empty());
}

TEST(VerifyTest, TreeDigestOfNothingIsStable) {
  EXPECT_EQ(TreeDigest({}), TreeDigest({}));
  EXPECT_NE(TreeDigest({}), TreeDigest({Digest128{1, 2}}));
  EXPECT_NE(TreeDigest({Digest128{1, 2}, Digest128{3, 4}}),
            TreeDigest({Digest128{3, 4}, Digest128{1, 2}}));
}

}  // namespace
}  // namespace pcopy
