// e2e_pseudo_test.cc: files of pseudo file systems (procfs, sysfs), whose reported size means
// nothing: /sys/devices/system/cpu/online reports 4096 bytes and holds a few. A copy, --checksum
// and --compare read them to their end, and agree with a plain copy of their bytes.
#include <sys/stat.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr const char* kSysfsFile = "/sys/devices/system/cpu/online";
constexpr const char* kProcFile = "/proc/version";

// The bytes a plain read gives (empty when the file is not there).
std::string PseudoBytes(const char* path) { return ReadFile(path); }

std::string DigestOf(const RunResult& r) { return r.out.substr(0, r.out.find(' ')); }

TEST(E2ePseudo, SysfsFileIsCopiedToItsEnd) {
  const std::string bytes = PseudoBytes(kSysfsFile);
  if (bytes.empty()) GTEST_SKIP() << kSysfsFile << " is not readable here";
  struct stat st {};
  ASSERT_EQ(stat(kSysfsFile, &st), 0);
  TempDir t;
  const std::string dst = t / "online", verified = t / "verified";
  RunResult r = RunPcopy({"-j", "2", kSysfsFile, dst});
  EXPECT_EQ(r.exit_code, 0) << r.err << " (st_size " << st.st_size << ")";
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(ReadFile(dst), bytes);
  r = RunPcopy({"-j", "2", "--verify", "--print-digest", kSysfsFile, verified});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(verified), bytes);
  EXPECT_EQ(DigestOf(r), DigestOf(RunPcopy({"--checksum", dst})));
  EXPECT_EQ(t.List(), (std::vector<std::string>{"online", "verified"}));
}

TEST(E2ePseudo, ChecksumReadsPseudoFilesToTheEnd) {
  TempDir t;
  for (const char* path : {kProcFile, kSysfsFile}) {
    SCOPED_TRACE(path);
    const std::string bytes = PseudoBytes(path);
    if (bytes.empty()) continue;
    const std::string copy = t / "copy";
    WriteFile(copy, bytes);
    const RunResult pseudo = RunPcopy({"-j", "2", "--checksum", path});
    const RunResult plain = RunPcopy({"-j", "2", "--checksum", copy});
    EXPECT_EQ(pseudo.exit_code, 0) << pseudo.err;
    EXPECT_EQ(pseudo.out, DigestOf(plain) + "  " + path + "\n");
  }
}

TEST(E2ePseudo, CompareReadsPseudoFilesToTheEnd) {
  TempDir t;
  for (const char* path : {kProcFile, kSysfsFile}) {
    SCOPED_TRACE(path);
    const std::string bytes = PseudoBytes(path);
    if (bytes.size() < 2) continue;
    const std::string copy = t / "copy", changed = t / "changed", shorter = t / "shorter";
    WriteFile(copy, bytes);
    std::string other = bytes;
    other[1] ^= 1;
    WriteFile(changed, other);
    WriteFile(shorter, bytes.substr(0, bytes.size() - 1));
    RunResult r = RunPcopy({"-v", "--compare", path, copy});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, Quoted(path) + " and " + Quoted(copy) + " are identical (" +
                         std::to_string(bytes.size()) + " bytes)\n");
    r = RunPcopy({"--compare", changed, path});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, Quoted(changed) + " " + Quoted(path) +
                         " differ: first difference at byte offset 1\n");
    r = RunPcopy({"--compare", path, shorter});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, Quoted(path) + " " + Quoted(shorter) +
                         " differ: first difference at byte offset " +
                         std::to_string(bytes.size() - 1) + " (one file is shorter)\n");
  }
}

// An empty regular file is read to its end too: nothing, the same as any other empty file.
TEST(E2ePseudo, EmptyRegularFiles) {
  TempDir t;
  const std::string empty = t / "empty", other = t / "other", full = t / "full";
  WriteFile(empty, "");
  WriteFile(other, "");
  WriteFile(full, "x");
  EXPECT_EQ(RunPcopy({"--compare", empty, other}).exit_code, 0);
  const RunResult r = RunPcopy({"--compare", empty, full});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, Quoted(empty) + " " + Quoted(full) +
                       " differ: first difference at byte offset 0 (one file is shorter)\n");
  EXPECT_EQ(DigestOf(RunPcopy({"--checksum", empty})), DigestOf(RunPcopy({"--checksum", other})));
}

}  // namespace
}  // namespace pcopy::test
