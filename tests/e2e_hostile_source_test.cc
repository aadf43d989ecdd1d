// e2e_hostile_source_test.cc: the real pcopy binary against a hostile SOURCE: one that grows or
// is replaced during the copy, a 5 GiB sparse one (offsets past 2^31 and 2^32), and one reached
// through a bind mount as DEST too. DEST is either as it was or a consistent copy of what was
// opened, an error is one line, and no temporary is left.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;

void AppendToFile(const std::string& path, const std::string& bytes) {
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd, 0) << path << ": " << strerror(errno);
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ASSERT_EQ(close(fd), 0);
}

// Reads length bytes at offset (fewer at the end of the file; empty if it cannot be opened).
std::string ReadAt(const std::string& path, uint64_t offset, size_t length) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out(length, '\0');
  const ssize_t got = pread(fd, out.data(), length, static_cast<off_t>(offset));
  close(fd);
  out.resize(got < 0 ? 0 : static_cast<size_t>(got));
  return out;
}

uint64_t SizeOf(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// ---------------------------------------------------------------------------------------------
// A source that changes under pcopy: it grows, or its path is given to another file.

// pcopy copies the size it saw at open and says the source grew: a consistent prefix, not a
// file with a torn tail. With -q the warning is not printed.
class E2eHostileGrow : public testing::TestWithParam<bool> {};

TEST_P(E2eHostileGrow, SourceGrowsDuringCopy) {
  const bool quiet = GetParam();
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 16 * kMiB, 61);
  const std::string original = ReadFile(src);
  MakeRandomFile(t / "extra", kMiB, 62);
  const std::string extra = ReadFile(t / "extra");
  ASSERT_EQ(unlink((t / "extra").c_str()), 0);

  std::vector<std::string> args = {"--bwlimit", "20M", "-j", "2"};
  if (quiet) args.push_back("-q");
  args.insert(args.end(), {src, dst});
  PcopyProcess p(args);
  ASSERT_EQ(WaitForNWorkers(p, 2).size(), 2u) << "pcopy did not start 2 workers";
  ASSERT_TRUE(WaitUntilCopied(p, t.path(), kMiB));
  AppendToFile(src, extra);
  ASSERT_TRUE(p.Running()) << "the copy ended before the source grew: the test proves nothing";
  const RunResult r = FinishWithin(p);

  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  if (quiet) {
    EXPECT_EQ(r.err, "");
  } else {
    EXPECT_TRUE(IsOneLine(r.err)) << "not one line: [" << r.err << "]";
    std::string expected = "pcopy: warning: ";
    expected.append(Quoted(src)).append(" grew during the copy; copied its first ");
    expected.append(std::to_string(16 * kMiB)).append(" bytes\n");
    EXPECT_EQ(r.err, expected);
  }
  EXPECT_EQ(SizeOf(dst), 16 * kMiB);
  EXPECT_TRUE(ReadFile(dst) == original) << "DEST is not the source's first 16 MiB";
  EXPECT_TRUE(ReadFile(src) == original + extra) << "the source was modified by pcopy";
  EXPECT_TRUE(Temporaries(t.path()).empty()) << testing::PrintToString(t.List());
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
}

std::string GrowName(const testing::TestParamInfo<bool>& p) { return p.param ? "Quiet" : "Warns"; }

INSTANTIATE_TEST_SUITE_P(E2eHostile, E2eHostileGrow, testing::Values(false, true), GrowName);

// pcopy opens SOURCE once and every worker reads that descriptor: a file renamed over the path
// mid-copy (same size, so a mix would pass any size check) must not leak into DEST. Each method
// reads the source its own way, so each is tried.
class E2eHostileReplace : public testing::TestWithParam<const char*> {};

TEST_P(E2eHostileReplace, SourcePathReplacedDuringCopy) {
  TempDir t;
  const std::string src = t / "src", other = t / "other", dst = t / "dst";
  MakeRandomFile(src, 16 * kMiB, 63);
  MakeRandomFile(other, 16 * kMiB, 64);
  const std::string original = ReadFile(src), replacement = ReadFile(other);
  ASSERT_NE(original, replacement);

  PcopyProcess p({"--bwlimit", "20M", "-j", "2", "--method", GetParam(), src, dst});
  ASSERT_EQ(WaitForNWorkers(p, 2).size(), 2u) << "pcopy did not start 2 workers";
  ASSERT_TRUE(WaitUntilCopied(p, t.path(), kMiB));
  ASSERT_EQ(rename(other.c_str(), src.c_str()), 0) << strerror(errno);
  ASSERT_TRUE(p.Running()) << "the copy ended before the source was replaced";
  const RunResult r = FinishWithin(p);

  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(SizeOf(dst), 16 * kMiB);
  EXPECT_TRUE(ReadFile(dst) == original) << "DEST is not the file that was opened";
  EXPECT_TRUE(ReadFile(src) == replacement) << "the replacement source was modified";
  EXPECT_TRUE(Temporaries(t.path()).empty()) << testing::PrintToString(t.List());
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
}

std::string MethodName(const testing::TestParamInfo<const char*>& p) { return ParamName(p.param); }

INSTANTIATE_TEST_SUITE_P(E2eHostile, E2eHostileReplace,
                         testing::Values("auto", "copy_file_range+pread", "pread", "sendfile",
                                         "mmap"),
                         MethodName);

// ---------------------------------------------------------------------------------------------
// A 5 GiB sparse source: offsets past 2^31 and 2^32 must not wrap anywhere.

TEST(E2eHostile, SparseFiveGiBSource) {
  TempDir t;
  // pcopy writes every byte: the holes of the source become 5 GiB of real zeros in DEST (the
  // copy is not sparse), so the test needs that much free space, with room to spare.
  struct statvfs vfs {};
  ASSERT_EQ(statvfs(t.path().c_str(), &vfs), 0) << strerror(errno);
  const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (free_bytes < 12 * kGiB) {
    GTEST_SKIP() << "needs 12 GiB free under " << t.path() << ", has " << free_bytes / kMiB
                 << " MiB";
  }
  const std::string src = t / "sparse", dst = t / "dst";
  constexpr uint64_t kSize = 5 * kGiB;
  struct Mark {
    uint64_t offset;
    std::string bytes;
  };
  const std::vector<Mark> marks = {{0, "head"},
                                   {(1ull << 31) - 1, "across 2^31"},
                                   {(1ull << 32) + 1, "past 2^32"},
                                   {kSize - 8, "the end!"}};
  {
    const int fd = open(src.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << strerror(errno);
    ASSERT_EQ(ftruncate(fd, static_cast<off_t>(kSize)), 0) << strerror(errno);
    for (const Mark& m : marks) {
      ASSERT_EQ(pwrite(fd, m.bytes.data(), m.bytes.size(), static_cast<off_t>(m.offset)),
                static_cast<ssize_t>(m.bytes.size()))
          << strerror(errno);
    }
    ASSERT_EQ(close(fd), 0);
  }
  ASSERT_EQ(SizeOf(src), kSize);

  const RunResult r = RunPcopy({"-j", "2", src, dst});
  EXPECT_EQ(r.signal, 0);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(Temporaries(t.path()).empty()) << testing::PrintToString(t.List());
  ASSERT_EQ(SizeOf(dst), kSize);

  // The marks, with a few zeros either side, and then random 4 KiB windows.
  for (const Mark& m : marks) {
    const uint64_t from = m.offset >= 3 ? m.offset - 3 : 0;
    const size_t length = static_cast<size_t>(m.offset - from) + m.bytes.size() + 3;
    std::string expected(static_cast<size_t>(m.offset - from), '\0');
    expected.append(m.bytes).append(3, '\0');
    expected.resize(static_cast<size_t>(std::min<uint64_t>(length, kSize - from)));
    EXPECT_EQ(ReadAt(dst, from, length), expected) << "at offset " << m.offset;
    EXPECT_EQ(ReadAt(src, from, length), expected) << "the source changed at " << m.offset;
  }
  std::mt19937_64 rng(67);
  for (int i = 0; i < 16; ++i) {
    const uint64_t offset = rng() % (kSize - 4096);
    EXPECT_TRUE(ReadAt(dst, offset, 4096) == ReadAt(src, offset, 4096)) << "at offset " << offset;
  }
  // The full comparison, by pcopy's own leaf digests.
  const RunResult cmp = RunPcopy({"--compare", "-j", "2", src, dst});
  EXPECT_EQ(cmp.exit_code, 0) << cmp.out << cmp.err;
  EXPECT_EQ(cmp.out, "");
  EXPECT_EQ(SizeOf(src), kSize);

  // And that comparison does look past 2^32: one byte changed there is found.
  constexpr uint64_t kChanged = (1ull << 32) + 4096 + 100;
  {
    const int fd = open(dst.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << strerror(errno);
    ASSERT_EQ(pwrite(fd, "x", 1, static_cast<off_t>(kChanged)), 1);
    ASSERT_EQ(close(fd), 0);
  }
  const RunResult differ = RunPcopy({"--compare", "-j", "2", src, dst});
  EXPECT_EQ(differ.exit_code, 1) << differ.out << differ.err;
  EXPECT_NE(differ.out.find("first difference at byte offset " + std::to_string(kChanged)),
            std::string::npos)
      << differ.out;
}

// ---------------------------------------------------------------------------------------------
// A bind mount: two different paths, one file. The same-file check (device and inode) must see
// through it, or the copy would truncate its own source.

class BindMount {
 public:
  BindMount(const std::string& from, const std::string& onto) : onto_(onto) {
    if (mount(from.c_str(), onto.c_str(), nullptr, MS_BIND, nullptr) == 0) {
      mounted_ = true;
    } else {
      error_ = "mount --bind " + from;
      error_.append(" ").append(onto).append(": ").append(strerror(errno));
    }
  }
  ~BindMount() {
    if (mounted_ && umount(onto_.c_str()) != 0) umount2(onto_.c_str(), MNT_DETACH);
  }
  BindMount(const BindMount&) = delete;
  BindMount& operator=(const BindMount&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string onto_;
  bool mounted_ = false;
  std::string error_;
};

TEST(E2eHostile, BindMountSameFileRefused) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to bind-mount";
  TempDir t;
  const std::string dir1 = t / "d1", dir2 = t / "d2";
  ASSERT_EQ(mkdir(dir1.c_str(), 0755), 0);
  ASSERT_EQ(mkdir(dir2.c_str(), 0755), 0);
  const std::string f1 = dir1 + "/f", f2 = dir2 + "/f";
  MakeRandomFile(f1, 4 * kMiB + 7, 68);
  const std::string original = ReadFile(f1);
  BindMount bind(dir1, dir2);  // declared after t: unmounted before t is removed
  if (!bind.mounted()) GTEST_SKIP() << bind.error();
  ASSERT_TRUE(Exists(f2)) << "the bind mount does not show the file";

  for (const std::string& dest : {f2, dir2}) {
    SCOPED_TRACE(dest);
    const RunResult r = RunPcopy({"-j", "2", "--chunk-size", "64K", f1, dest});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(IsOneLine(r.err)) << "not one line: [" << r.err << "]";
    std::string expected = "pcopy: ";
    expected.append(Quoted(f1)).append(" and ").append(Quoted(f2)).append(" are the same file\n");
    EXPECT_EQ(r.err, expected);
    EXPECT_TRUE(ReadFile(f1) == original) << "the file was modified";
    EXPECT_EQ(ListDir(dir1), std::vector<std::string>{"f"});
  }
  struct stat st {};
  ASSERT_EQ(stat(f1.c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
}

}  // namespace
}  // namespace pcopy::test
