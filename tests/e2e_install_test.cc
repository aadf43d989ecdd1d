// End-to-end tests of what `cmake --install` puts in place, as a new user meets it: the
// binaries, the man page (made by help2man from --help) read with man, and the bash completion
// of options, their values and file names.
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy {
namespace {

using test::Exists;
using test::RunCommand;
using test::RunResult;
using test::TempDir;
using test::WriteFile;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(E2eInstall, InstallsTheBinariesTheManPageAndTheCompletions) {
  TempDir prefix;
  const RunResult r =
      RunCommand({PCOPY_CMAKE, "--install", PCOPY_BUILD_DIR, "--prefix", prefix.path()}, 120000);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const RunResult version = RunCommand({prefix / "bin/pcopy", "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("pcopy ", 0), 0u) << version.out;
  EXPECT_TRUE(Exists(prefix / "share/bash-completion/completions/pcopy"));
  EXPECT_TRUE(Exists(prefix / "share/zsh/site-functions/_pcopy"));

  const std::string page = prefix / "share/man/man1/pcopy.1";
  if (!Exists(page)) {
    GTEST_SKIP() << "help2man was not found when pcopy was built: no man page "
                    "(scripts/install-deps.sh installs it)";
  }
  if (access("/usr/bin/man", X_OK) != 0) GTEST_SKIP() << "man is not installed";
  setenv("MANWIDTH", "80", 1);
  const RunResult man = RunCommand({"man", "-l", "-P", "cat", page});
  unsetenv("MANWIDTH");
  ASSERT_EQ(man.exit_code, 0) << man.err;
  for (const char* part :
       {"NAME", "pcopy - copy large files and trees with parallel workers", "SYNOPSIS",
        "-j, --jobs=N", "--strategy=NAME", "EXAMPLES", "SEE ALSO", "cp(1)",
        // Each method a tag with its text beside or under it, the exit codes a list, each example
        // its command over its words: not one paragraph run into the next.
        "\n       copy_file_range+pread\n              copy_file_range,",
        "\n   Exit status:\n       0      copied",
        "\n       pcopy big.img /backup/\n              copy big.img into /backup",
        "\nAUTHOR\n       Written by the pcopy developers.\n"}) {
    EXPECT_TRUE(Contains(man.out, part)) << part << "\n" << man.out;
  }
  // The copyright --version prints, in a section of its own (the symbol as the locale draws it).
  const size_t copyright = version.out.find("\nCopyright (C) ");
  ASSERT_NE(copyright, std::string::npos) << version.out;
  const std::string holder =
      version.out.substr(copyright + 15, version.out.find('\n', copyright + 1) - copyright - 15);
  const size_t section = man.out.find("\nCOPYRIGHT\n       Copyright ");
  ASSERT_NE(section, std::string::npos) << man.out;
  EXPECT_NE(man.out.find(" " + holder + "\n", section), std::string::npos) << holder << "\n"
                                                                           << man.out;
  EXPECT_EQ(man.out.find("Built with"), std::string::npos) << man.out;
}

// The completion as bash-completion calls it, with pcopy found on PATH (the built one).
class E2eBashCompletion : public testing::Test {
 protected:
  void SetUp() override {
    if (access(kBashCompletion, R_OK) != 0) {
      GTEST_SKIP() << "bash-completion is not installed (scripts/install-deps.sh installs it)";
    }
  }

  // The words offered for the last of words, one per line.
  std::string Complete(const std::vector<std::string>& words) {
    std::string script = std::string("source ") + kBashCompletion + "; source '" +
                         PCOPY_SOURCE_DIR + "/completions/pcopy.bash'; COMP_WORDS=(";
    std::string line;
    for (const std::string& w : words) {
      script += " '" + w + "'";
      line += (line.empty() ? "" : " ") + w;
    }
    script += "); COMP_CWORD=" + std::to_string(words.size() - 1) + "; COMP_LINE='" + line +
              "'; COMP_POINT=" + std::to_string(line.size()) +
              "; _pcopy pcopy \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\";"
              " printf '%s\\n' \"${COMPREPLY[@]}\" | sort";
    const std::string path = std::string(PCOPY_BUILD_DIR) + ":" + getenv("PATH");
    const RunResult r = RunCommand({"env", "PATH=" + path, "bash", "-c", script});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  static constexpr const char* kBashCompletion = "/usr/share/bash-completion/bash_completion";
};

TEST_F(E2eBashCompletion, CompletesOptionsFromTheHelp) {
  EXPECT_EQ(Complete({"pcopy", "--ver"}), "--verbose\n--verify\n--version\n");
  EXPECT_EQ(Complete({"pcopy", "--chunk"}), "--chunk-size=\n");
  EXPECT_EQ(Complete({"pcopy", "--no-d"}), "--no-dereference\n");
}

TEST_F(E2eBashCompletion, CompletesTheValuesOfOptionsThatTakeAName) {
  EXPECT_EQ(Complete({"pcopy", "--strategy", "d"}), "dynamic\n");
  EXPECT_EQ(Complete({"pcopy", "--strategy=g"}), "guided\n");
  EXPECT_EQ(Complete({"pcopy", "--progress", ""}), "auto\nbar\njson\nnone\nplain\n");
  EXPECT_EQ(Complete({"pcopy", "--preserve=mode,ti"}), "mode,timestamps\n");
  EXPECT_EQ(Complete({"pcopy", "--no-preserve", "mode,ti"}), "mode,timestamps\n");
  EXPECT_EQ(Complete({"pcopy", "--checksum=x"}), "xxh128\n");
  EXPECT_EQ(Complete({"pcopy", "--preserve", "--verb"}), "--verbose\n");  // a bare --preserve
  EXPECT_EQ(Complete({"pcopy", "-j", ""}), "\n");  // a number: nothing offered
}

TEST_F(E2eBashCompletion, CompletesFileNames) {
  TempDir t;
  WriteFile(t / "file one.img", "x");
  WriteFile(t / "other", "x");
  ASSERT_EQ(mkdir((t / "dir").c_str(), 0700), 0);
  EXPECT_EQ(Complete({"pcopy", "-j", "2", t / "fi"}), t / "file one.img" + "\n");
  EXPECT_EQ(Complete({"pcopy", "-t", t / ""}), t / "dir" + "\n");
}

}  // namespace
}  // namespace pcopy
