#include "app/option_names.h"

#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy {
namespace {

const std::vector<std::string> kNames = {
    "verbose",      "verify", "preserve",          "progress", "no-preserve",
    "print-digest", "resume", "resume-by-content", "jobs"};

std::string Expand(std::vector<std::string>* args) { return ExpandLongOptions(kNames, args); }

TEST(OptionNamesTest, AnUnambiguousPrefixStandsForItsOption) {
  std::vector<std::string> args = {"--verb", "--verif", "--pres=mode", "--prog", "bar",
                                   "--j=4",  "-v",      "--no-p",      "a"};
  EXPECT_EQ(Expand(&args), "");
  EXPECT_EQ(args,
            (std::vector<std::string>{"--verbose", "--verify", "--preserve=mode", "--progress",
                                      "bar", "--jobs=4", "-v", "--no-preserve", "a"}));
}

// An exact name wins over the longer ones it begins (--resume, --resume-by-content).
TEST(OptionNamesTest, AnExactNameIsTakenAsItIs) {
  std::vector<std::string> args = {"--resume", "--resume-by"};
  EXPECT_EQ(Expand(&args), "");
  EXPECT_EQ(args, (std::vector<std::string>{"--resume", "--resume-by-content"}));
}

TEST(OptionNamesTest, AnAmbiguousPrefixNamesItsPossibilities) {
  std::vector<std::string> args = {"--ver", "a"};
  EXPECT_EQ(Expand(&args), "option '--ver' is ambiguous; possibilities: '--verbose' '--verify'");
  args = {"--pr=x"};
  EXPECT_EQ(Expand(&args),
            "option '--pr' is ambiguous; possibilities: '--preserve' '--progress' "
            "'--print-digest'");
}

TEST(OptionNamesTest, AMisspeltNameGetsTheNearestAsASuggestion) {
  std::vector<std::string> args = {"--verfy"};
  EXPECT_EQ(Expand(&args), "unrecognised option '--verfy'; did you mean '--verify'?");
  args = {"--verfiy"};  // two letters swapped: one edit
  EXPECT_EQ(Expand(&args), "unrecognised option '--verfiy'; did you mean '--verify'?");
  args = {"--jbos=2"};
  EXPECT_EQ(Expand(&args), "unrecognised option '--jbos'; did you mean '--jobs'?");
  args = {"--frobnicate"};
  EXPECT_EQ(Expand(&args), "unrecognised option '--frobnicate'");
  args = {"--x\n"};  // quoted as every name pcopy prints
  EXPECT_EQ(Expand(&args), "unrecognised option '--x\\n'");
}

// After "--" every word is an operand, as getopt takes it; so are "-" and short options.
TEST(OptionNamesTest, OperandsAreLeftAlone) {
  std::vector<std::string> args = {"-", "-j4", "--", "--verb", "--frobnicate"};
  EXPECT_EQ(Expand(&args), "");
  EXPECT_EQ(args, (std::vector<std::string>{"-", "-j4", "--", "--verb", "--frobnicate"}));
}

TEST(OptionNamesTest, NearestNameNeedsFewEditsForItsLength) {
  EXPECT_EQ(NearestName(kNames, "jbo"), "");  // 2 edits of a 4-letter name: not near
  EXPECT_EQ(NearestName(kNames, "preserv"), "preserve");
  EXPECT_EQ(NearestName(kNames, "zzzzzz"), "");
}

}  // namespace
}  // namespace pcopy
