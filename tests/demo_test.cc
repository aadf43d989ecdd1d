// demo_test.cc: the demo's byte-for-byte check of its copy (app/demo.h CompareFiles).
#include "app/demo.h"

#include <string>

#include "test_util.h"

namespace pcopy {
namespace {

using test::TempDir;
using test::WriteFile;

TEST(DemoCompareFilesTest, EqualDifferingAndShorter) {
  TempDir t;
  std::string bytes(3 * (1 << 20) + 17, 'x');
  WriteFile(t / "a", bytes);
  WriteFile(t / "same", bytes);
  bytes[(1 << 20) + 5] = 'y';
  WriteFile(t / "other", bytes);
  WriteFile(t / "short", bytes.substr(0, 1000));
  bool equal = false;
  uint64_t where = 0;
  ASSERT_OK(CompareFiles(t / "a", t / "same", &equal, &where));
  EXPECT_TRUE(equal);
  ASSERT_OK(CompareFiles(t / "a", t / "other", &equal, &where));
  EXPECT_FALSE(equal);
  EXPECT_EQ(where, (1u << 20) + 5);
  ASSERT_OK(CompareFiles(t / "a", t / "short", &equal, &where));
  EXPECT_FALSE(equal);
  EXPECT_EQ(where, 1000u);
  const Status missing = CompareFiles(t / "a", t / "missing", &equal, &where);
  EXPECT_EQ(missing.ToString(), "cannot open " + test::Quoted(t / "missing") +
                                    " for reading: No such file or directory");
}

}  // namespace
}  // namespace pcopy
