// e2e_hostile_test.cc: the real pcopy binary against a hostile world: a source that grows or is
// replaced during the copy, file names made to break messages, a 5 GiB sparse source, a bind
// mount that makes two paths one file, two pcopy runs racing into one DEST, a reader watching
// DEST, outputs that cannot be written, and a parent stopped and continued. Whatever happens,
// DEST is either as it was or complete, an error is one line, and no temporary is left.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;
constexpr int kExitTimeoutMs = 15000;

bool StillRunning(const PcopyProcess& p) { return !p.WaitForExit(0); }

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
  ASSERT_EQ(WaitForNWorkers(p, 2, 10000).size(), 2u) << "pcopy did not start 2 workers";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  AppendToFile(src, extra);
  ASSERT_TRUE(StillRunning(p)) << "the copy ended before the source grew: the test proves nothing";
  const RunResult r = FinishWithin(p, kExitTimeoutMs);

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
  ASSERT_EQ(WaitForNWorkers(p, 2, 10000).size(), 2u) << "pcopy did not start 2 workers";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(rename(other.c_str(), src.c_str()), 0) << strerror(errno);
  ASSERT_TRUE(StillRunning(p)) << "the copy ended before the source was replaced";
  const RunResult r = FinishWithin(p, kExitTimeoutMs);

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
// File names built to break things: spaces, a newline (which could forge a second message
// line), bytes that are not UTF-8, a quote, and a name of NAME_MAX (255) bytes.

struct NameCase {
  const char* test_name;
  std::string name;   // the file name
  std::string shown;  // how pcopy's messages show it, between the quotes
};

void PrintTo(const NameCase& c, std::ostream* os) { *os << c.test_name; }

std::string NameCaseName(const testing::TestParamInfo<NameCase>& info) {
  return info.param.test_name;
}

class E2eHostileNames : public testing::TestWithParam<NameCase> {};

TEST_P(E2eHostileNames, CopiedExactly) {
  const std::string& name = GetParam().name;
  TempDir t;
  const std::string src = t / name, out1 = t / "out1", out2 = t / "out2";
  ASSERT_EQ(mkdir(out1.c_str(), 0755), 0);
  ASSERT_EQ(mkdir(out2.c_str(), 0755), 0);
  MakeRandomFile(src, kMiB + 7, 65);
  ASSERT_TRUE(Exists(src));
  const std::string original = ReadFile(src);

  // DEST a directory: the name is taken from SOURCE.
  const RunResult a = RunPcopy({"-j", "2", "--chunk-size", "64K", src, out1});
  EXPECT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.err, "");
  EXPECT_EQ(ListDir(out1), std::vector<std::string>{name});
  EXPECT_TRUE(ReadFile(out1 + "/" + name) == original);

  // DEST named in full.
  const std::string dst = out2 + "/" + name;
  const RunResult b = RunPcopy({"-j", "2", "--chunk-size", "64K", src, dst});
  EXPECT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(b.err, "");
  EXPECT_EQ(ListDir(out2), std::vector<std::string>{name});
  EXPECT_TRUE(ReadFile(dst) == original);

  // -v names both files on one line each: the newline is escaped, the line count is exact.
  const RunResult v = RunPcopy({"-v", "-j", "2", src, dst});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  std::string arrow = "'";
  arrow.append(t.path()).append("/").append(GetParam().shown).append("' -> '");
  arrow.append(out2).append("/").append(GetParam().shown).append("'\n");
  EXPECT_NE(v.out.find(arrow), std::string::npos) << "expected [" << arrow << "] in: " << v.out;
  EXPECT_TRUE(ReadFile(dst) == original);

  EXPECT_TRUE(ReadFile(src) == original) << "the source changed";
  EXPECT_TRUE(Temporaries(t.path()).empty());
  EXPECT_TRUE(Temporaries(out1).empty());
  EXPECT_TRUE(Temporaries(out2).empty());
}

TEST_P(E2eHostileNames, MissingSourceIsOneLine) {
  TempDir t;
  const std::string src = t / GetParam().name, dst = t / "dst";
  const RunResult r = RunPcopy({"-j", "2", src, dst});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(IsOneLine(r.err)) << "not one line: [" << r.err << "]";
  std::string expected = "pcopy: cannot open '";
  expected.append(t.path()).append("/").append(GetParam().shown);
  expected.append("' for reading: No such file or directory\n");
  EXPECT_EQ(r.err, expected);
  EXPECT_TRUE(t.List().empty()) << testing::PrintToString(t.List());
}

// As DEST, a name in a missing directory: the refusal names DEST, still on one line.
TEST_P(E2eHostileNames, MissingDestDirectoryIsOneLine) {
  TempDir t;
  const std::string src = t / "src";
  MakeRandomFile(src, 4097, 66);
  const std::string original = ReadFile(src);
  std::string dst = t / GetParam().name;
  dst.append("/dst");
  const RunResult r = RunPcopy({src, dst});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(IsOneLine(r.err)) << "not one line: [" << r.err << "]";
  std::string shown = "'";
  shown.append(t.path()).append("/").append(GetParam().shown).append("/dst'");
  EXPECT_NE(r.err.find(shown), std::string::npos) << "expected [" << shown << "] in: " << r.err;
  EXPECT_TRUE(ReadFile(src) == original);
  EXPECT_EQ(t.List(), std::vector<std::string>{"src"});
}

INSTANTIATE_TEST_SUITE_P(
    E2eHostile, E2eHostileNames,
    testing::Values(NameCase{"Spaces", " a file  with spaces ", " a file  with spaces "},
                    NameCase{"Newline", "line1\npcopy: forged line", "line1\\npcopy: forged line"},
                    NameCase{"NotUtf8", "\xff\xfe-not-utf8-\xc3", "\xff\xfe-not-utf8-\xc3"},
                    NameCase{"Quote", "it's", "it\\'s"},
                    NameCase{"NameMax", std::string(255, 'n'), std::string(255, 'n')}),
    NameCaseName);

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
      ASSERT_EQ(WaitForNWorkers(pa, 2, 10000).size(), 2u);
      ASSERT_EQ(WaitForNWorkers(pb, 2, 10000).size(), 2u);
      EXPECT_TRUE(StillRunning(pa) && StillRunning(pb)) << "the two copies did not overlap";
    }
    const RunResult ra = FinishWithin(pa, kExitTimeoutMs);
    const RunResult rb = FinishWithin(pb, kExitTimeoutMs);
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
  const RunResult r = FinishWithin(p, kExitTimeoutMs);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a few reads of the final DEST
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

// ---------------------------------------------------------------------------------------------
// Outputs that cannot be written (/dev/full: every write fails with ENOSPC). pcopy must not
// die of it, and must not claim success when its -v report was lost.

// Runs pcopy with stdout and stderr on the given files or devices, stdin on /dev/null.
ExitStatus RunPcopyWithOutputs(const std::vector<std::string>& args, const std::string& out,
                               const std::string& err, int timeout_ms) {
  std::vector<std::string> argv = {PCOPY_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunWithOutputs(argv, out, err, timeout_ms);
}

TEST(E2eHostile, ErrorToFullStderr) {
  TempDir t;
  const ExitStatus e =
      RunPcopyWithOutputs({t / "missing", t / "dst"}, "/dev/null", "/dev/full", 10000);
  EXPECT_EQ(e.signal, 0) << "pcopy died of signal " << e.signal;
  EXPECT_EQ(e.code, 1);
  EXPECT_TRUE(t.List().empty()) << testing::PrintToString(t.List());

  // --help whose text cannot be written is a failure too.
  const ExitStatus h = RunPcopyWithOutputs({"--help"}, "/dev/full", "/dev/full", 10000);
  EXPECT_EQ(h.signal, 0);
  EXPECT_NE(h.code, 0);
}

TEST(E2eHostile, VerboseCopyToFullOutputs) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 16 * kMiB + 5, 73);
  const std::string original = ReadFile(src);
  const std::vector<std::vector<std::string>> variants = {
      {"-v"}, {"-v", "--progress", "bar", "--bwlimit", "64M"}, {"--progress", "plain", "-v"}};
  for (const auto& options : variants) {
    SCOPED_TRACE(testing::PrintToString(options));
    ASSERT_TRUE(!Exists(dst) || unlink(dst.c_str()) == 0);
    std::vector<std::string> args = {"-j", "2"};
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), {src, dst});
    const ExitStatus e = RunPcopyWithOutputs(args, "/dev/full", "/dev/full", kExitTimeoutMs);
    EXPECT_EQ(e.signal, 0) << "pcopy died of signal " << e.signal;
    EXPECT_NE(e.code, 0) << "the -v report was lost, yet pcopy exited 0";
    EXPECT_NE(e.code, -1);
    EXPECT_TRUE(ReadFile(dst) == original) << "DEST is not complete";
    EXPECT_TRUE(ReadFile(src) == original);
    EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
  }
}

// ---------------------------------------------------------------------------------------------
// The parent stopped (SIGSTOP, as by Ctrl-Z or a debugger) and continued mid-copy: the workers
// carry on or wait, nothing is published while it is stopped, and the copy completes.

TEST(E2eHostile, ParentStoppedAndContinued) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 16 * kMiB + 4095, 74);
  const std::string original = ReadFile(src);
  PcopyProcess p({"--bwlimit", "20M", "-j", "2", src, dst});
  ASSERT_EQ(WaitForNWorkers(p, 2, 10000).size(), 2u);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(kill(p.pid(), SIGSTOP), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_FALSE(Exists(dst)) << "DEST published while the parent was stopped";
  ASSERT_EQ(kill(p.pid(), SIGCONT), 0);
  const RunResult r = FinishWithin(p, kExitTimeoutMs);

  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(ReadFile(dst) == original);
  EXPECT_TRUE(ReadFile(src) == original);
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
}

}  // namespace
}  // namespace pcopy::test
