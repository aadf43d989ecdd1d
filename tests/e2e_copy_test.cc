// e2e_copy_test.cc: successful copies through the real pcopy binary. Every test compares real
// bytes, checks the exit code, what was printed, the mode of DEST and that no temporary is left.
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <iterator>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

mode_t CurrentUmask() {
  const mode_t mask = umask(0);
  umask(mask);
  return mask;
}

// Sets the umask for a scope; pcopy inherits it from the test process.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(umask(mask)) {}
  ~ScopedUmask() { umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

mode_t PermissionsOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return static_cast<mode_t>(-1);
  return st.st_mode & 07777;
}

uint64_t SizeOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return ~0ull;
  return static_cast<uint64_t>(st.st_size);
}

std::string DirOf(const std::string& path) { return path.substr(0, path.rfind('/')); }

// What every successful copy must leave behind: exit 0, nothing on stderr (no terminal, so no
// progress by default), DEST byte-identical, DEST's mode the source's permissions less the umask,
// and no temporary beside DEST.
void ExpectCopied(const RunResult& r, const std::string& src, const std::string& dst,
                  bool expect_silent = true) {
  EXPECT_EQ(r.exit_code, 0) << "stderr: " << r.err;
  EXPECT_EQ(r.signal, 0);
  if (expect_silent) {
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, "");
  }
  EXPECT_TRUE(SameBytes(src, dst)) << src << " and " << dst << " differ";
  EXPECT_EQ(SizeOf(dst), SizeOf(src));
  struct stat st {};
  ASSERT_EQ(stat(src.c_str(), &st), 0);
  EXPECT_EQ(PermissionsOf(dst), st.st_mode & 0777 & ~CurrentUmask()) << dst;
  EXPECT_TRUE(Temporaries(DirOf(dst)).empty()) << "temporary left in " << DirOf(dst);
}

// ---------------------------------------------------------------------------------------------
// The size x jobs x method x chunk-size matrix.

struct CopyCase {
  uint64_t size;
  unsigned jobs;
  // auto, copy_file_range, copy_file_range+pread, pread (and, 256 MiB only, sendfile, mmap,
  // direct)
  const char* method;
  bool small_chunks;  // --chunk-size 4K instead of the default 1M
};

void PrintTo(const CopyCase& c, std::ostream* os) {
  *os << "size " << c.size << ", -j " << c.jobs << ", --method " << c.method << ", --chunk-size "
      << (c.small_chunks ? "4K" : "default");
}

std::string CaseName(const testing::TestParamInfo<CopyCase>& info) {
  const CopyCase& c = info.param;
  return "size" + std::to_string(c.size) + "_j" + std::to_string(c.jobs) + "_" +
         ParamName(c.method) + (c.small_chunks ? "_chunk4K" : "_chunkdefault");
}

// Source files, one per size, made once per suite. Their modes differ so that DEST's mode is
// seen to follow the source's.
class SourceSet {
 public:
  explicit SourceSet(const std::vector<uint64_t>& sizes) {
    static constexpr mode_t kModes[] = {0644, 0600, 0755, 0640, 0444, 0705};
    size_t i = 0;
    for (uint64_t size : sizes) {
      const std::string path = dir_ / ("src-" + std::to_string(size));
      MakeRandomFile(path, size, 1000 + size);
      chmod(path.c_str(), kModes[i++ % std::size(kModes)]);
      paths_[size] = path;
    }
  }
  const std::string& Path(uint64_t size) const { return paths_.at(size); }

 private:
  TempDir dir_;
  std::map<uint64_t, std::string> paths_;
};

void RunCopyCase(const CopyCase& c, const std::string& src) {
  TempDir out;
  const std::string dst = out / "dst";
  std::vector<std::string> args = {"-j", std::to_string(c.jobs), "--method", c.method};
  if (c.small_chunks) {
    args.push_back("--chunk-size");
    args.push_back("4K");
  }
  args.push_back(src);
  args.push_back(dst);
  const RunResult r = RunPcopy(args);
  ExpectCopied(r, src, dst);
  EXPECT_EQ(out.List(), std::vector<std::string>{"dst"});
}

const std::vector<uint64_t> kSmallSizes = {0, 1, 4095, 4096, 4097, kMiB + 7, 16 * kMiB + 4095};

class E2eCopyMatrix : public testing::TestWithParam<CopyCase> {
 protected:
  static void SetUpTestSuite() { sources_ = new SourceSet(kSmallSizes); }
  static void TearDownTestSuite() {
    delete sources_;
    sources_ = nullptr;
  }
  static SourceSet* sources_;
};
SourceSet* E2eCopyMatrix::sources_ = nullptr;

TEST_P(E2eCopyMatrix, CopiesByteExact) { RunCopyCase(GetParam(), sources_->Path(GetParam().size)); }

std::vector<CopyCase> SmallCases() {
  std::vector<CopyCase> cases;
  for (uint64_t size : std::initializer_list<uint64_t>{0, 1, 4095, 4096, 4097, kMiB + 7}) {
    for (unsigned jobs : {1u, 2u, 3u, 7u, 16u}) {
      for (const char* method : {"auto", "copy_file_range", "copy_file_range+pread", "pread"}) {
        for (bool small : {false, true}) cases.push_back({size, jobs, method, small});
      }
    }
  }
  // A larger unaligned size, so the default chunk size also gives many workers.
  for (unsigned jobs : {3u, 16u}) {
    for (const char* method : {"auto", "copy_file_range", "copy_file_range+pread", "pread"}) {
      cases.push_back({16 * kMiB + 4095, jobs, method, false});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(E2eCopy, E2eCopyMatrix, testing::ValuesIn(SmallCases()), CaseName);

// 256 MiB only with a few job counts and the explicit methods: it is the expensive part.
constexpr uint64_t kLargeSize = 256 * kMiB;

class E2eCopyLarge : public testing::TestWithParam<CopyCase> {
 protected:
  static void SetUpTestSuite() { sources_ = new SourceSet({kLargeSize}); }
  static void TearDownTestSuite() {
    delete sources_;
    sources_ = nullptr;
  }
  static SourceSet* sources_;
};
SourceSet* E2eCopyLarge::sources_ = nullptr;

TEST_P(E2eCopyLarge, CopiesByteExact) { RunCopyCase(GetParam(), sources_->Path(kLargeSize)); }

INSTANTIATE_TEST_SUITE_P(E2eCopy, E2eCopyLarge,
                         testing::Values(CopyCase{kLargeSize, 1, "copy_file_range", false},
                                         CopyCase{kLargeSize, 2, "copy_file_range+pread", false},
                                         CopyCase{kLargeSize, 2, "copy_file_range", false},
                                         CopyCase{kLargeSize, 7, "copy_file_range", false},
                                         CopyCase{kLargeSize, 1, "pread", false},
                                         CopyCase{kLargeSize, 2, "pread", false},
                                         CopyCase{kLargeSize, 7, "pread", false},
                                         CopyCase{kLargeSize, 2, "sendfile", false},
                                         CopyCase{kLargeSize, 2, "mmap", false},
                                         CopyCase{kLargeSize, 2, "direct", false}),
                         CaseName);

// ---------------------------------------------------------------------------------------------
// Every strategy x size x -j x chunk size x method.

struct StrategyCase {
  const char* strategy;
  CopyCase copy;
};

void PrintTo(const StrategyCase& c, std::ostream* os) {
  *os << "--strategy " << c.strategy << ", ";
  PrintTo(c.copy, os);
}

std::string StrategyCaseName(const testing::TestParamInfo<StrategyCase>& info) {
  return std::string(info.param.strategy) + "_" +
         CaseName(testing::TestParamInfo<CopyCase>(info.param.copy, info.index));
}

const std::vector<uint64_t> kStrategySizes = {0, 1, 4097, kMiB + 7, 16 * kMiB + 4095};

class E2eStrategyMatrix : public testing::TestWithParam<StrategyCase> {
 protected:
  static void SetUpTestSuite() { sources_ = new SourceSet(kStrategySizes); }
  static void TearDownTestSuite() {
    delete sources_;
    sources_ = nullptr;
  }
  static SourceSet* sources_;
};
SourceSet* E2eStrategyMatrix::sources_ = nullptr;

TEST_P(E2eStrategyMatrix, CopiesByteExact) {
  const StrategyCase& c = GetParam();
  TempDir out;
  const std::string src = sources_->Path(c.copy.size), dst = out / "dst";
  std::vector<std::string> args = {"--strategy", c.strategy,   "-j", std::to_string(c.copy.jobs),
                                   "--method",   c.copy.method};
  if (c.copy.small_chunks) {
    args.push_back("--chunk-size");
    args.push_back("4K");
  }
  args.push_back(src);
  args.push_back(dst);
  ExpectCopied(RunPcopy(args), src, dst);
  EXPECT_EQ(out.List(), std::vector<std::string>{"dst"});
}

std::vector<StrategyCase> StrategyCases() {
  std::vector<StrategyCase> cases;
  for (const char* strategy : {"contiguous", "interleaved", "dynamic", "guided"}) {
    for (uint64_t size : kStrategySizes) {
      for (unsigned jobs : {1u, 2u, 3u, 7u, 16u}) {
        for (bool small : {true, false}) {
          // On ext4 auto is pread/pwrite; copy_file_range+pread is what it is on xfs or btrfs.
          for (const char* method : {"auto", "copy_file_range+pread"}) {
            cases.push_back({strategy, {size, jobs, method, small}});
          }
        }
      }
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(E2eCopy, E2eStrategyMatrix, testing::ValuesIn(StrategyCases()),
                         StrategyCaseName);

// ---------------------------------------------------------------------------------------------
// The sendfile, mmap and direct methods: method x size x -j x chunk size x strategy.

struct MethodCase {
  const char* method;  // sendfile, mmap, direct
  uint64_t size;
  unsigned jobs;
  const char* chunk;     // --chunk-size, or nullptr for the default
  const char* strategy;  // contiguous, dynamic
};

void PrintTo(const MethodCase& c, std::ostream* os) {
  *os << "--method " << c.method << ", size " << c.size << ", -j " << c.jobs << ", --chunk-size "
      << (c.chunk != nullptr ? c.chunk : "default") << ", --strategy " << c.strategy;
}

std::string MethodCaseName(const testing::TestParamInfo<MethodCase>& info) {
  const MethodCase& c = info.param;
  return std::string(c.method) + "_size" + std::to_string(c.size) + "_j" + std::to_string(c.jobs) +
         "_chunk" + (c.chunk != nullptr ? c.chunk : "default") + "_" + c.strategy;
}

const std::vector<uint64_t> kMethodSizes = {0, 1, 4095, 4096, 4097, kMiB + 7, 16 * kMiB + 4095};

class E2eMethodMatrix : public testing::TestWithParam<MethodCase> {
 protected:
  static void SetUpTestSuite() { sources_ = new SourceSet(kMethodSizes); }
  static void TearDownTestSuite() {
    delete sources_;
    sources_ = nullptr;
  }
  static SourceSet* sources_;
};
SourceSet* E2eMethodMatrix::sources_ = nullptr;

TEST_P(E2eMethodMatrix, CopiesByteExact) {
  const MethodCase& c = GetParam();
  TempDir out;
  const std::string src = sources_->Path(c.size), dst = out / "dst";
  std::vector<std::string> args = {"--method",   c.method,  "-j", std::to_string(c.jobs),
                                   "--strategy", c.strategy};
  if (c.chunk != nullptr) {
    args.push_back("--chunk-size");
    args.push_back(c.chunk);
  }
  args.push_back(src);
  args.push_back(dst);
  ExpectCopied(RunPcopy(args), src, dst);
  EXPECT_EQ(out.List(), std::vector<std::string>{"dst"});
}

// Every method x size x -j x chunk size x strategy, except --chunk-size 1 under dynamic scheduling
// from 1 MiB on: that hands out hundreds of thousands of one- or two-byte chunks, seconds per copy,
// and the small sizes cover it.
std::vector<MethodCase> MethodCases() {
  const char* const kChunks[] = {"4K", nullptr, "1"};
  std::vector<MethodCase> cases;
  for (const char* method : {"sendfile", "mmap", "direct"}) {
    for (uint64_t size : kMethodSizes) {
      const bool large = size >= kMiB;
      for (const char* strategy : {"contiguous", "dynamic"}) {
        const bool dynamic = std::string(strategy) == "dynamic";
        for (unsigned jobs : {1u, 2u, 3u, 7u, 16u}) {
          for (const char* chunk : kChunks) {
            if (large && dynamic && chunk != nullptr && std::string(chunk) == "1") continue;
            cases.push_back({method, size, jobs, chunk, strategy});
          }
        }
      }
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(E2eCopy, E2eMethodMatrix, testing::ValuesIn(MethodCases()),
                         MethodCaseName);

// --buffer-size below 4 KiB, or not a multiple of it, still works with O_DIRECT: the worker
// rounds its buffer up to whole 4 KiB blocks.
TEST(E2eCopy, DirectWithOddBufferSizes) {
  TempDir t;
  const std::string src = t / "src";
  MakeRandomFile(src, 256 * 1024 + 5000, 30);
  for (const char* buffer : {"1000", "1", "4097"}) {
    SCOPED_TRACE(std::string("--buffer-size ") + buffer);
    const std::string dst = t / (std::string("dst-") + buffer);
    const RunResult r = RunPcopy({"-v", "-j", "3", "--chunk-size", "4K", "--method", "direct",
                                  "--buffer-size", buffer, src, dst});
    ExpectCopied(r, src, dst, /*expect_silent=*/false);
    EXPECT_EQ(r.err, "");
    EXPECT_TRUE(EndsWith(LastLine(r.out), ", method O_DIRECT pread/pwrite")) << r.out;
  }
}

TEST(E2eCopy, VerboseNamesTheNewMethods) {
  TempDir t;
  const std::string src = t / "src";
  MakeRandomFile(src, 4 * kMiB + 3, 31);
  const std::pair<const char*, const char*> kExpected[] = {
      {"sendfile", "method sendfile"},
      {"mmap", "method mmap + pwrite"},
      {"direct", "method O_DIRECT pread/pwrite"}};
  for (const auto& [method, description] : kExpected) {
    SCOPED_TRACE(method);
    const std::string dst = t / (std::string("dst-") + method);
    const RunResult r = RunPcopy({"-v", "-j", "2", "--method", method, src, dst});
    ExpectCopied(r, src, dst, /*expect_silent=*/false);
    EXPECT_EQ(r.err, "");
    const std::string last = LastLine(r.out);
    EXPECT_EQ(last.rfind("pcopy: copied ", 0), 0u) << r.out;
    EXPECT_TRUE(EndsWith(last, std::string("with 2 workers, ") + description)) << r.out;
    EXPECT_EQ(r.out.find("method auto"), std::string::npos) << "an explicit method is not auto";
  }
}

// The "pcopy: method auto: SOURCE on A, DEST on B: CHOICE" line, or "" if there is none.
std::string AutoLine(const std::string& out) {
  const std::string prefix = "pcopy: method auto: ";
  const size_t at = out.find(prefix);
  if (at == std::string::npos) return "";
  return out.substr(at, out.find('\n', at) - at);
}

// Whether path is on a file system of this type (statfs f_type, e.g. TMPFS_MAGIC).
bool OnFileSystem(const std::string& path, long magic) {
  struct statfs st {};
  return statfs(path.c_str(), &st) == 0 && st.f_type == magic;
}

// Across file system types copy_file_range could only answer EXDEV: auto goes straight to
// pread/pwrite, and says so.
TEST(E2eCopy, AutoIntoTmpfsUsesPread) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to mount a tmpfs";
  TempDir t;
  const std::string src = t / "src", mnt = t / "mnt", dst = mnt + "/dst";
  if (OnFileSystem(t.path(), TMPFS_MAGIC)) {
    GTEST_SKIP() << t.path() << " is on tmpfs itself: DEST would be alike";
  }
  MakeRandomFile(src, 4 * kMiB + 3, 32);
  ASSERT_EQ(mkdir(mnt.c_str(), 0755), 0);
  TmpfsMount mount(mnt, "size=16m");
  if (!mount.mounted()) GTEST_SKIP() << mount.error();
  const RunResult r = RunPcopy({"-v", "-j", "3", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  EXPECT_EQ(r.err, "");
  const std::string line = AutoLine(r.out);
  EXPECT_TRUE(EndsWith(
      line,
      ", DEST on tmpfs: pread/pwrite with 32.0 KiB buffers (copy_file_range cannot cross file "
      "system types)"))
      << r.out;
  EXPECT_EQ(line.find("SOURCE on tmpfs"), std::string::npos) << r.out;
  EXPECT_NE(LastLine(r.out).find("method pread/pwrite"), std::string::npos) << r.out;
  EXPECT_EQ(ListDir(mnt), std::vector<std::string>{"dst"});
}

// Within ext4 copy_file_range would only copy through the page cache in large writes, which
// stall on this class of machine: auto takes pread/pwrite with the default 32 KiB buffers.
TEST(E2eCopy, AutoWithinExt4UsesSmallPreadWrites) {
  TempDir t;
  if (!OnFileSystem(t.path(), EXT4_SUPER_MAGIC)) GTEST_SKIP() << t.path() << " is not on ext4";
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 4 * kMiB + 3, 33);
  const RunResult r = RunPcopy({"-v", "-j", "3", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(AutoLine(r.out),
            "pcopy: method auto: SOURCE on ext4, DEST on ext4: pread/pwrite with 32.0 KiB buffers "
            "(copy_file_range cannot share extents on ext4)")
      << r.out;
  EXPECT_TRUE(EndsWith(LastLine(r.out), "method pread/pwrite with 32.0 KiB buffers")) << r.out;
}

// Bytes of path that sit in extents shared with another file (FIEMAP_EXTENT_SHARED).
uint64_t SharedBytes(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return 0;
  constexpr unsigned kMaxExtents = 256;
  std::vector<char> buffer(sizeof(fiemap) + kMaxExtents * sizeof(fiemap_extent));
  auto* map = reinterpret_cast<fiemap*>(buffer.data());
  map->fm_length = FIEMAP_MAX_OFFSET;
  map->fm_flags = FIEMAP_FLAG_SYNC;
  map->fm_extent_count = kMaxExtents;
  if (ioctl(fd.get(), FS_IOC_FIEMAP, map) != 0) return 0;
  uint64_t shared = 0;
  for (unsigned i = 0; i < map->fm_mapped_extents; ++i) {
    if (map->fm_extents[i].fe_flags & FIEMAP_EXTENT_SHARED) shared += map->fm_extents[i].fe_length;
  }
  return shared;
}

// Where extents can be shared, auto takes copy_file_range, which there is a reflink: the copy
// shares every block of SOURCE and writes no data.
void ExpectAutoReflinks(const std::string& type) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to loop-mount " << type;
  TempDir t;
  const std::string mnt = t / "mnt";
  ASSERT_EQ(mkdir(mnt.c_str(), 0755), 0);
  LoopMount mount(mnt, type, t / "image", 512 * kMiB);
  if (!mount.mounted()) GTEST_SKIP() << mount.error();
  const std::string src = mnt + "/src", dst = mnt + "/dst";
  MakeRandomFile(src, 8 * kMiB, 34);
  const RunResult r = RunPcopy({"-v", "-j", "3", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  EXPECT_EQ(r.err, "");
  std::string expected = "pcopy: method auto: SOURCE on ";
  expected.append(type).append(", DEST on ").append(type).append(": copy_file_range (");
  expected.append(type).append(
      " can share extents or copy on the server), with pread/pwrite as "
      "fallback");
  EXPECT_EQ(AutoLine(r.out), expected) << r.out;
  EXPECT_TRUE(EndsWith(LastLine(r.out), "method copy_file_range")) << r.out;
  EXPECT_EQ(SharedBytes(dst), 8 * kMiB) << "the copy is not a reflink of SOURCE";
  EXPECT_EQ(ListDir(mnt), (std::vector<std::string>{"dst", "src"}));
}

TEST(E2eCopy, AutoReflinksOnXfs) { ExpectAutoReflinks("xfs"); }
TEST(E2eCopy, AutoReflinksOnBtrfs) { ExpectAutoReflinks("btrfs"); }

// A slow worker under dynamic scheduling: the other worker takes over the chunks it does not get
// to, and the copy is still complete.
TEST(E2eCopy, DynamicWithSlowWorkerIsByteExact) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 64 * kMiB, 20);
  ExpectCopied(RunPcopy({"--strategy", "dynamic", "-j", "2", "--slow-worker", "4", "--chunk-size",
                         "1M", src, dst}),
               src, dst);
  const std::string dst2 = t / "dst2";
  const RunResult r = RunPcopy({"-v", "--strategy", "guided", "-j", "3", "--slow-worker", "2.5",
                                "--chunk-size", "1M", "--method", "pread", src, dst2});
  ExpectCopied(r, src, dst2, /*expect_silent=*/false);
  EXPECT_NE(r.out.find("plan: guided, 3 workers"), std::string::npos) << r.out;
}

TEST(E2eCopy, VerboseDynamicPrintsChunks) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 4 * kMiB + 3, 21);
  const RunResult r = RunPcopy({"-v", "--strategy", "dynamic", "-j", "2", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("pcopy: plan: dynamic, 2 workers"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("5 chunks"), std::string::npos) << r.out;  // 4 of 1 MiB and 3 bytes
  EXPECT_NE(r.out.find("with 2 workers"), std::string::npos) << r.out;
}

// --slow-worker makes worker 0 FACTOR times slower than it would be, --bwlimit or not. 16 MiB
// at 32M/s over 2 contiguous workers is 0.5 s; with worker 0 four times slower its 8 MiB take 2 s.
TEST(E2eCopy, SlowWorkerIsSlowerUnderBwlimit) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 16 * kMiB, 22);
  const auto start = std::chrono::steady_clock::now();
  ExpectCopied(RunPcopy({"--strategy", "contiguous", "--bwlimit", "32M", "-j", "2", "--slow-worker",
                         "4", src, dst}),
               src, dst);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(took, 1.2) << "worker 0 was not slowed down: the copy took " << took << " s";
}

// A worker killed in the middle of a dynamic copy: the copy fails, and nothing is published.
TEST(E2eCopy, DynamicWorkerKilledFailsCleanly) {
  TempDir t;
  const std::string src = t / "src", dst = t / "out/dst";
  MakeRandomFile(src, 32 * kMiB, 23);
  ASSERT_EQ(mkdir((t / "out").c_str(), 0755), 0);
  // --bwlimit 20M: about 1.6 s; the worker is killed once the first bytes have landed.
  PcopyProcess p(
      {"--strategy", "dynamic", "--retries", "0", "--bwlimit", "20M", "-j", "2", src, dst});
  const std::vector<pid_t> workers = WaitForNWorkers(p, 2);
  ASSERT_EQ(workers.size(), 2u) << "pcopy did not start 2 workers";
  ASSERT_TRUE(WaitUntilCopied(p, t / "out", kMiB));
  ASSERT_EQ(kill(workers[0], SIGKILL), 0);
  const RunResult r = FinishWithin(p);

  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("pcopy: ", 0), 0u) << r.err;
  EXPECT_TRUE(IsOneLine(r.err)) << "not one line: [" << r.err << "]";
  EXPECT_NE(r.err.find("killed by signal 9"), std::string::npos) << r.err;
  EXPECT_FALSE(Exists(dst));
  EXPECT_TRUE(Temporaries(t / "out").empty());
  EXPECT_TRUE(ListDir(t / "out").empty()) << testing::PrintToString(ListDir(t / "out"));
  // The other worker does not outlive the copy.
  for (pid_t w : workers) EXPECT_NE(kill(w, 0), 0) << "worker " << w << " still exists";
}

// ---------------------------------------------------------------------------------------------
// Destinations, options and sources beyond the matrix.

// --chunk-size 1 lifts the 4 KiB alignment of range boundaries, so workers split pages; the
// largest -j spawns the most processes pcopy allows.
TEST(E2eCopy, UnalignedRangesAndMaximumJobs) {
  TempDir t;
  const std::string src = t / "src";
  MakeRandomFile(src, 4097, 18);
  for (const char* method : {"auto", "copy_file_range", "copy_file_range+pread", "pread"}) {
    SCOPED_TRACE(method);
    const std::string dst = t / (std::string("dst-") + method);
    ExpectCopied(RunPcopy({"-j", "16", "--chunk-size", "1", "--method", method, src, dst}), src,
                 dst);
  }
  const std::string big = t / "big", dst = t / "dst-1024";
  MakeRandomFile(big, kMiB + 7, 19);
  const RunResult r =
      RunPcopy({"-v", "-j", "1024", "--chunk-size", "1", "--strategy", "contiguous", big, dst});
  ExpectCopied(r, big, dst, /*expect_silent=*/false);
  EXPECT_NE(r.out.find("plan: contiguous, 1024 workers"), std::string::npos) << r.out;
}

TEST(E2eCopy, DestDirectoryGetsBasename) {
  TempDir t;
  const std::string src = t / "data.bin";
  MakeRandomFile(src, kMiB + 7, 2);
  ASSERT_EQ(mkdir((t / "out").c_str(), 0755), 0);
  ExpectCopied(RunPcopy({"-j", "3", "--chunk-size", "4K", src, t / "out"}), src,
               t / "out/data.bin");
  EXPECT_EQ(ListDir(t / "out"), std::vector<std::string>{"data.bin"});

  // With a trailing slash too.
  ASSERT_EQ(mkdir((t / "out2").c_str(), 0755), 0);
  ExpectCopied(RunPcopy({"-j", "2", src, t / "out2/"}), src, t / "out2/data.bin");
  EXPECT_EQ(ListDir(t / "out2"), std::vector<std::string>{"data.bin"});
}

TEST(E2eCopy, ReplacesLongerExistingDest) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, kMiB + 7, 3);
  MakeRandomFile(dst, 3 * kMiB + 1, 4);  // longer, different bytes
  ExpectCopied(RunPcopy({"-j", "3", "--chunk-size", "4K", src, dst}), src, dst);
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
}

TEST(E2eCopy, ReplacesShorterExistingDest) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, kMiB + 7, 5);
  WriteFile(dst, "old and short");
  ExpectCopied(RunPcopy({"-j", "2", "--chunk-size", "4K", src, dst}), src, dst);
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
}

TEST(E2eCopy, NoClobberKeepsExistingDest) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, kMiB + 7, 6);
  WriteFile(dst, "precious old content");
  ASSERT_EQ(chmod(dst.c_str(), 0600), 0);
  struct stat before {};
  ASSERT_EQ(stat(dst.c_str(), &before), 0);

  RunResult r = RunPcopy({"-n", "-j", "2", src, dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(ReadFile(dst), "precious old content");
  struct stat after {};
  ASSERT_EQ(stat(dst.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_mode, before.st_mode);
  EXPECT_TRUE(Temporaries(t.path()).empty());

  r = RunPcopy({"--no-clobber", "-v", src, dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("not replacing"), std::string::npos) << r.out;
  EXPECT_EQ(ReadFile(dst), "precious old content");
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
}

TEST(E2eCopy, NoClobberCopiesWhenDestMissing) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, kMiB + 7, 7);
  ExpectCopied(RunPcopy({"-n", "-j", "3", "--chunk-size", "4K", src, dst}), src, dst);
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
}

TEST(E2eCopy, DestSymlinkToFileReplacesTarget) {
  TempDir t;
  const std::string src = t / "src", target = t / "target", link = t / "link";
  MakeRandomFile(src, 3 * 4096 + 5, 8);
  WriteFile(target, "old target");
  ASSERT_EQ(symlink("target", link.c_str()), 0);
  ExpectCopied(RunPcopy({"-j", "2", "--chunk-size", "4K", src, link}), src, target);
  struct stat st {};
  ASSERT_EQ(lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the symlink itself was replaced";
  EXPECT_TRUE(SameBytes(src, link));
}

TEST(E2eCopy, SourceSymlinkCopiesTarget) {
  TempDir t;
  const std::string real = t / "real", link = t / "link", dst = t / "dst";
  MakeRandomFile(real, 2 * kMiB + 1, 9);
  ASSERT_EQ(symlink("real", link.c_str()), 0);
  ExpectCopied(RunPcopy({"-j", "2", link, dst}), real, dst);
  struct stat st {};
  ASSERT_EQ(lstat(dst.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST(E2eCopy, ModeFollowsSourceAndUmask) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, kMiB + 7, 10);
  ASSERT_EQ(chmod(src.c_str(), 0777), 0);
  {
    ScopedUmask mask(027);
    const RunResult r = RunPcopy({"-j", "2", "--chunk-size", "4K", src, dst});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(PermissionsOf(dst), 0750u);
  }
  EXPECT_TRUE(SameBytes(src, dst));
  EXPECT_TRUE(Temporaries(t.path()).empty());
}

// /proc files report size 0 but have content: pcopy must read them to the end.
void ExpectProcCopy(const std::string& proc_file) {
  TempDir t;
  const std::string dst = t / "copy";
  const std::string before = ReadFile(proc_file);
  const RunResult r = RunPcopy({"-j", "4", proc_file, dst});
  const std::string after = ReadFile(proc_file);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  ASSERT_FALSE(before.empty());
  const std::string copy = ReadFile(dst);
  EXPECT_TRUE(copy == before || copy == after)
      << proc_file << ": copied " << copy.size() << " bytes, reading gives " << before.size();
  EXPECT_TRUE(Temporaries(t.path()).empty());
}

TEST(E2eCopy, ProcCpuinfoReadToTheEnd) { ExpectProcCopy("/proc/cpuinfo"); }
TEST(E2eCopy, ProcVersionReadToTheEnd) { ExpectProcCopy("/proc/version"); }

TEST(E2eCopy, VerbosePrintsPlanAndMethod) {
  TempDir t;
  const std::string src = t / "src";
  MakeRandomFile(src, 4 * kMiB + 3, 11);
  for (const char* method : {"copy_file_range", "pread"}) {
    SCOPED_TRACE(method);
    const std::string dst = t / (std::string("dst-") + method);
    const RunResult r = RunPcopy({"-v", "-j", "2", "--method", method, src, dst});
    ExpectCopied(r, src, dst, /*expect_silent=*/false);
    EXPECT_EQ(r.err, "");
    // The default strategy.
    EXPECT_NE(r.out.find("pcopy: plan: dynamic, 2 workers"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(std::string("method ") + method), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("with 2 workers"), std::string::npos) << r.out;
  }
}

TEST(E2eCopy, ProgressPlainReportsCompletion) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 4 * kMiB, 12);
  const RunResult r = RunPcopy({"--progress", "plain", "-j", "2", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("pcopy: 100.0%"), std::string::npos) << r.err;
}

TEST(E2eCopy, ProgressBarWithoutTerminalEndsComplete) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 4 * kMiB, 17);
  const RunResult r = RunPcopy({"--progress", "bar", "-j", "2", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("100.0%"), std::string::npos) << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.back(), '\n') << "the bar's last line is not ended";
}

TEST(E2eCopy, ProgressNoneQuietAndNoTerminalPrintNothing) {
  TempDir t;
  const std::string src = t / "src";
  MakeRandomFile(src, 4 * kMiB, 13);
  const std::vector<std::vector<std::string>> variants = {
      {"--progress", "none"}, {"-q"}, {"--quiet", "--progress", "plain"}, {}};
  int i = 0;
  for (const auto& options : variants) {
    const std::string dst = t / ("dst" + std::to_string(i++));
    std::vector<std::string> args = options;
    args.insert(args.end(), {"-j", "2", src, dst});
    SCOPED_TRACE(testing::PrintToString(args));
    ExpectCopied(RunPcopy(args), src, dst);  // checks that stdout and stderr are empty
  }
}

TEST(E2eCopy, HelpAndVersion) {
  RunResult r = RunPcopy({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind("Usage: pcopy", 0), 0u) << r.out;
  for (const char* option : {"--jobs", "--chunk-size", "--method", "--progress", "--no-clobber",
                             "--fsync", "--bwlimit", "--verbose", "--quiet"}) {
    EXPECT_NE(r.out.find(option), std::string::npos) << option;
  }
  EXPECT_NE(r.out.find("130 SIGINT"), std::string::npos);
  r = RunPcopy({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("pcopy ", 0), 0u) << r.out;
}

TEST(E2eCopy, FsyncCopies) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 2 * kMiB + 11, 14);
  ExpectCopied(RunPcopy({"--fsync", "-j", "3", src, dst}), src, dst);
  const std::string dst2 = t / "dst2";
  const RunResult r = RunPcopy({"--fsync", "-v", "-j", "2", src, dst2});
  ExpectCopied(r, src, dst2, /*expect_silent=*/false);
  EXPECT_NE(r.out.find(", fsync"), std::string::npos) << r.out;
}

TEST(E2eCopy, NamesWithSpacesAndNewline) {
  TempDir t;
  const std::string name = "my file\nwith newline.bin";
  const std::string src = t / name;
  MakeRandomFile(src, kMiB + 7, 15);
  ASSERT_EQ(mkdir((t / "out dir").c_str(), 0755), 0);

  // Into a directory: the odd basename is kept as it is.
  RunResult r = RunPcopy({"-v", "-j", "3", "--chunk-size", "4K", src, t / "out dir"});
  ExpectCopied(r, src, t / ("out dir/" + name), /*expect_silent=*/false);
  EXPECT_EQ(ListDir(t / "out dir"), std::vector<std::string>{name});
  // -v quotes the names, so the newline cannot split the "SRC -> DEST" line.
  EXPECT_NE(r.out.find("my file\\nwith newline.bin' -> '"), std::string::npos) << r.out;

  // To an explicit odd name.
  const std::string dst = t / "copy with\nnewline too";
  ExpectCopied(RunPcopy({"-j", "2", src, dst}), src, dst);
}

// A loop device over an image file, detached on destruction.
class LoopDevice {
 public:
  explicit LoopDevice(const std::string& image) {
    FILE* p = popen(("losetup -f --show '" + image + "' 2>&1").c_str(), "r");
    if (p == nullptr) {
      error_ = "popen failed";
      return;
    }
    char buf[256];
    std::string out;
    while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
    const int status = pclose(p);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    if (status == 0 && out.rfind("/dev/", 0) == 0 && out.find('\n') == std::string::npos) {
      device_ = out;
    } else {
      error_ = "losetup -f --show failed: " + out;
    }
  }
  ~LoopDevice() {
    if (!device_.empty()) {
      const std::string cmd = "losetup -d '" + device_ + "' 2>/dev/null";
      if (system(cmd.c_str()) != 0)
        fprintf(stderr, "warning: could not detach %s\n", device_.c_str());
    }
  }
  LoopDevice(const LoopDevice&) = delete;
  LoopDevice& operator=(const LoopDevice&) = delete;
  const std::string& device() const { return device_; }
  const std::string& error() const { return error_; }

 private:
  std::string device_;
  std::string error_;
};

TEST(E2eCopy, BlockDeviceSource) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to attach a loop device";
  TempDir t;
  const std::string image = t / "image";
  MakeRandomFile(image, 8 * kMiB, 16);
  LoopDevice loop(image);
  if (loop.device().empty()) GTEST_SKIP() << loop.error();
  struct stat st {};
  ASSERT_EQ(stat(loop.device().c_str(), &st), 0);
  ASSERT_TRUE(S_ISBLK(st.st_mode));

  const std::string dst = t / "copy";
  const RunResult r = RunPcopy({"-j", "3", loop.device(), dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(SameBytes(image, dst)) << "copy of " << loop.device() << " differs from its image";
  EXPECT_EQ(SizeOf(dst), 8 * kMiB);
  struct stat dst_st {};
  ASSERT_EQ(lstat(dst.c_str(), &dst_st), 0);
  EXPECT_TRUE(S_ISREG(dst_st.st_mode));
  EXPECT_EQ(dst_st.st_mode & 07777, st.st_mode & 0777 & ~CurrentUmask());
  EXPECT_TRUE(Temporaries(t.path()).empty());

  // The explicit pread method, with small chunks, from the same device.
  const std::string dst2 = t / "copy2";
  const RunResult r2 =
      RunPcopy({"-j", "7", "--chunk-size", "4K", "--method", "pread", loop.device(), dst2});
  EXPECT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_TRUE(SameBytes(image, dst2));
}

}  // namespace
}  // namespace pcopy::test
