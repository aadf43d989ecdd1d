// e2e_copy_methods_test.cc: the sendfile, mmap and direct methods across sizes x -j x chunk
// size x strategy, O_DIRECT with odd buffer sizes, what -v names, and what --method auto picks
// by file system (pread/pwrite across types and within ext4, a reflink on xfs and btrfs).
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "e2e_copy_util.h"
#include "sparse_test_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

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
    EXPECT_TRUE(OnlyCopiedLines(r.out)) << r.err;
    EXPECT_TRUE(EndsWith(LastLine(r.err), ", method O_DIRECT pread/pwrite")) << r.err;
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
    EXPECT_TRUE(OnlyCopiedLines(r.out)) << r.err;
    const std::string last = LastLine(r.err);
    EXPECT_EQ(last.rfind("pcopy: copied ", 0), 0u) << r.err;
    EXPECT_TRUE(EndsWith(last, std::string("with 2 workers, ") + description)) << r.err;
    EXPECT_EQ(r.err.find("method auto"), std::string::npos) << "an explicit method is not auto";
  }
}

// The "pcopy: method auto: SOURCE on A, DEST on B: CHOICE" line, or "" if there is none.
std::string AutoLine(const std::string& out) {
  const std::string prefix = "pcopy: method auto: ";
  const size_t at = out.find(prefix);
  if (at == std::string::npos) return "";
  return out.substr(at, out.find('\n', at) - at);
}

// What auto says where it chooses pread/pwrite and no option pins the write size.
constexpr const char* kTunedAuto =
    "pread/pwrite, each worker timing its chunks to choose writes of 32.0 KiB to 1.00 MiB";

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
  EXPECT_TRUE(OnlyCopiedLines(r.out)) << r.err;
  const std::string line = AutoLine(r.err);
  EXPECT_TRUE(EndsWith(line, std::string(", DEST on tmpfs: ") + kTunedAuto +
                                 " (copy_file_range cannot cross file system types)"))
      << r.err;
  EXPECT_EQ(line.find("SOURCE on tmpfs"), std::string::npos) << r.err;
  EXPECT_NE(LastLine(r.err).find("method pread/pwrite"), std::string::npos) << r.err;
  EXPECT_EQ(ListDir(mnt), std::vector<std::string>{"dst"});
}

// The "pcopy: copied ..." line of -v.
std::string CopiedLine(const std::string& out) {
  const size_t at = out.find("pcopy: copied ");
  if (at == std::string::npos) return "";
  return out.substr(at, out.find('\n', at) - at);
}

// The "pcopy: worker N: writes of ..." lines of -v, in order.
std::vector<std::string> WriteSizeLines(const std::string& out) {
  std::vector<std::string> lines;
  for (size_t at = 0; (at = out.find("pcopy: worker ", at)) != std::string::npos; ++at) {
    const std::string line = out.substr(at, out.find('\n', at) - at);
    if (line.find(": writes of ") != std::string::npos) lines.push_back(line);
  }
  return lines;
}

// Within ext4 copy_file_range would only copy through the page cache in writes as large as the
// call, which stall on this class of machine: auto takes pread/pwrite, and each worker tunes its
// write size from 32 KiB. Too few chunks to probe another size: said, and 32 KiB throughout.
TEST(E2eCopy, AutoWithinExt4TunesPreadWriteSizes) {
  TempDir t;
  if (!OnFileSystem(t.path(), EXT4_SUPER_MAGIC)) GTEST_SKIP() << t.path() << " is not on ext4";
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 4 * kMiB + 3, 33);
  const RunResult r = RunPcopy({"-v", "-j", "3", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  EXPECT_TRUE(OnlyCopiedLines(r.out)) << r.err;
  EXPECT_EQ(AutoLine(r.err), std::string("pcopy: method auto: SOURCE on ext4, DEST on ext4: ") +
                                 kTunedAuto + " (copy_file_range cannot share extents on ext4)")
      << r.err;
  EXPECT_TRUE(EndsWith(CopiedLine(r.err),
                       "method pread/pwrite with 32.0 KiB buffers (too few chunks to tune them)"))
      << r.err;
  EXPECT_EQ(WriteSizeLines(r.err), std::vector<std::string>{}) << r.err;
}

// Enough chunks to probe: one line per worker says the size it ended with and why.
TEST(E2eCopy, TunedWorkersSayWhatTheyChose) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 48 * kMiB + 5, 35);
  const RunResult r = RunPcopy({"-v", "-j", "2", "--chunk-size", "256K", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  EXPECT_TRUE(OnlyCopiedLines(r.out)) << r.err;
  if (AutoLine(r.err).find(kTunedAuto) == std::string::npos) {
    GTEST_SKIP() << "auto does not choose pread/pwrite here: " << AutoLine(r.err);
  }
  EXPECT_NE(CopiedLine(r.err).find("method pread/pwrite with writes tuned per chunk ("),
            std::string::npos)
      << r.err;
  const std::vector<std::string> lines = WriteSizeLines(r.err);
  ASSERT_EQ(lines.size(), 2u) << r.err;
  const std::vector<std::string> sizes = {"32.0 KiB", "64.0 KiB", "128 KiB",
                                          "256 KiB",  "512 KiB",  "1.00 MiB"};
  size_t probed = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string prefix = "pcopy: worker " + std::to_string(i) + ": writes of ";
    ASSERT_EQ(lines[i].rfind(prefix, 0), 0u) << lines[i];
    const std::string rest = lines[i].substr(prefix.size());
    EXPECT_TRUE(std::any_of(sizes.begin(), sizes.end(), [&](const std::string& s) {
      return rest.rfind(s + " ", 0) == 0;
    })) << lines[i];
    // "(1 probe of other sizes, ...)" or "(3 probes of other sizes, ...)".
    const bool kept = rest.find(" throughout (") != std::string::npos &&
                      EndsWith(rest, " of other sizes, none 15% faster)");
    const bool switched = rest.find(" at the end, after ") != std::string::npos &&
                          rest.find("; the last after offset ") != std::string::npos;
    // Chunks are handed out as workers ask: one that started late (a loaded machine, the
    // sanitizers) may get too few to probe, and says so.
    const bool few = EndsWith(rest, " throughout (too few chunks to probe another size)");
    EXPECT_EQ(int{kept} + int{switched} + int{few}, 1) << lines[i];
    probed += kept || switched ? 1 : 0;
  }
  EXPECT_GE(probed, 1u) << r.err;
}

// A SOURCE out of the page cache is read ahead and written 32 KiB at a time: -v says both.
TEST(E2eCopy, AColdSourceIsReadAheadAndNotTuned) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 24 * kMiB + 9, 37);
  {
    const int fd = open(src.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(fdatasync(fd), 0);
    ASSERT_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
    close(fd);
  }
  const RunResult r = RunPcopy({"-v", "-j", "2", "--chunk-size", "256K", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  EXPECT_TRUE(OnlyCopiedLines(r.out)) << r.err;
  if (r.err.find("pcopy: SOURCE: 0% of 24.0 MiB in the page cache (") == std::string::npos) {
    GTEST_SKIP() << "the pages were not dropped, or the kernel cannot tell: " << r.err;
  }
  EXPECT_NE(r.err.find("; each worker asks the kernel to read 4.00 MiB ahead of the chunk it "
                       "takes\n"),
            std::string::npos)
      << r.err;
  if (AutoLine(r.err).find("pread/pwrite") == std::string::npos) GTEST_SKIP() << r.err;
  EXPECT_NE(AutoLine(r.err).find("pread/pwrite with 32.0 KiB buffers, not tuned: SOURCE is "
                                 "mostly on storage, reading sets the pace"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(WriteSizeLines(r.err), std::vector<std::string>{}) << r.err;
  EXPECT_TRUE(EndsWith(CopiedLine(r.err), "pread/pwrite with 32.0 KiB buffers")) << r.err;
}

// A sparse SOURCE is judged by its data: all of it cached, it is tuned and not read ahead, though
// most of its length (holes) is in no cache.
TEST(E2eCopy, ASparseSourceIsJudgedByItsData) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 24 * kMiB, 38);
  ASSERT_EQ(truncate(src.c_str(), 256 * kMiB), 0);
  const RunResult r = RunPcopy({"-v", "-j", "2", "--chunk-size", "256K", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  if (r.err.find("pcopy: sparse: ") == std::string::npos ||
      AutoLine(r.err).find("pread/pwrite") == std::string::npos) {
    GTEST_SKIP() << "no holes kept, or auto does not choose pread/pwrite here: " << r.err;
  }
  EXPECT_NE(r.err.find("pcopy: SOURCE: 9% of 256 MiB in the page cache ("), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("read ahead"), std::string::npos) << r.err;
  EXPECT_NE(AutoLine(r.err).find(kTunedAuto), std::string::npos) << r.err;
}

// --buffer-size, --method and --bwlimit pin the write size: no tuning, and -v says which size.
TEST(E2eCopy, ExplicitChoicesPinTheWriteSize) {
  TempDir t;
  const std::string src = t / "src";
  MakeRandomFile(src, 24 * kMiB + 1, 36);
  const std::vector<std::vector<std::string>> pins = {
      {"--buffer-size", "64K"}, {"--method", "pread"}, {"--bwlimit", "2G"}};
  for (const std::vector<std::string>& pin : pins) {
    SCOPED_TRACE(pin[0]);
    const std::string dst = t / ("dst" + pin[0]);
    std::vector<std::string> args = {"-v", "-j", "2", "--chunk-size", "128K"};
    args.insert(args.end(), pin.begin(), pin.end());
    args.insert(args.end(), {src, dst});
    const RunResult r = RunPcopy(args);
    ExpectCopied(r, src, dst, /*expect_silent=*/false);
    EXPECT_TRUE(OnlyCopiedLines(r.out)) << r.err;
    EXPECT_EQ(r.err.find("timing its chunks"), std::string::npos) << r.err;
    EXPECT_EQ(WriteSizeLines(r.err), std::vector<std::string>{}) << r.err;
    const std::string size = pin[0] == "--buffer-size" ? "64.0 KiB" : "32.0 KiB";
    EXPECT_TRUE(EndsWith(CopiedLine(r.err), "pread/pwrite with " + size + " buffers")) << r.err;
  }
}

// Where extents can be shared, --reflink=auto clones SOURCE (FICLONE): the copy shares every
// block of SOURCE and writes no data. With --reflink=never, auto copies the data with pread.
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
  EXPECT_TRUE(OnlyCopiedLines(r.out)) << r.err;
  EXPECT_EQ(AutoLine(r.err), "") << "a clone chooses no method: " << r.err;
  EXPECT_TRUE(EndsWith(LastLine(r.err), "method FICLONE (a reflink: DEST shares SOURCE's extents)"))
      << r.err;
  EXPECT_EQ(SharedBytes(dst), 8 * kMiB) << "the copy is not a reflink of SOURCE";
  const std::string copied = mnt + "/copied";
  const RunResult never = RunPcopy({"-v", "-j", "3", "--reflink=never", src, copied});
  ExpectCopied(never, src, copied, /*expect_silent=*/false);
  EXPECT_EQ(AutoLine(never.err), std::string("pcopy: method auto: ") + kTunedAuto +
                                     " (--reflink=never: copy_file_range may share extents)");
  EXPECT_EQ(SharedBytes(copied), 0u);
  EXPECT_EQ(ListDir(mnt), (std::vector<std::string>{"copied", "dst", "src"}));
}

TEST(E2eCopy, AutoReflinksOnXfs) { ExpectAutoReflinks("xfs"); }
TEST(E2eCopy, AutoReflinksOnBtrfs) { ExpectAutoReflinks("btrfs"); }

}  // namespace
}  // namespace pcopy::test
