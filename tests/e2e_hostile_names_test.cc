// e2e_hostile_names_test.cc: the real pcopy binary with file names built to break things:
// spaces, a newline (which could forge a second message line), bytes that are not UTF-8, a
// quote, and a name of NAME_MAX (255) bytes. They are copied exactly, and every message that
// names them is still one line.
#include <sys/stat.h>

#include <ostream>
#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

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

}  // namespace
}  // namespace pcopy::test
