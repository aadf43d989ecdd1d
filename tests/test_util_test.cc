// test_util_test.cc: the helpers every test leans on: how a wait gives up.
#include "test_util.h"

#include <string>

namespace pcopy::test {
namespace {

TEST(WaitUntilTest, NamesWhatItWaitedFor) {
  int calls = 0;
  const testing::AssertionResult never = WaitUntil(
      "the impossible",
      [&] {
        ++calls;
        return false;
      },
      20);
  EXPECT_FALSE(never);
  EXPECT_NE(std::string(never.message()).find("waiting for the impossible"), std::string::npos)
      << never.message();
  EXPECT_GE(calls, 1);
  calls = 0;
  EXPECT_TRUE(WaitUntil("the third try", [&] { return ++calls == 3; }));
  EXPECT_EQ(calls, 3);
  // A timeout of 0 still asks once.
  calls = 0;
  EXPECT_TRUE(WaitUntil(
      "the first try", [&] { return ++calls == 1; }, 0));
}

}  // namespace
}  // namespace pcopy::test
