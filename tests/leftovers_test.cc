#include "os/leftovers.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "test_util.h"

namespace pcopy {
namespace {

using test::Exists;
using test::TempDir;
using test::WriteFile;

// A pid that surely belongs to no process: a child that has exited and been reaped.
pid_t DeadPid() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

std::string Name(const std::string& host, pid_t pid) {
  return ".pcopy-" + host + "-" + std::to_string(pid) + "-0123456789ab.tmp";
}

TEST(LeftoversTest, TemporaryNameNamesThisHostAndProcess) {
  const std::string name = TemporaryName();
  TemporaryOwner owner;
  ASSERT_TRUE(ParseTemporaryName(name, &owner)) << name;
  EXPECT_EQ(owner.host, HostForNames());
  EXPECT_EQ(owner.pid, getpid());
  EXPECT_NE(TemporaryName(), name);  // random part
  EXPECT_EQ(HostForNames().find_first_not_of(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._"),
            std::string::npos);
}

TEST(LeftoversTest, ParseRejectsOtherNames) {
  TemporaryOwner owner;
  for (const char* name :
       {"", ".pcopy-.tmp", ".pcopy-host-12-0123456789ab", "pcopy-host-12-0123456789ab.tmp",
        ".pcopy-host-12-0123456789a.tmp", ".pcopy-host-12-0123456789abc.tmp",
        ".pcopy-host-x2-0123456789ab.tmp", ".pcopy-host--0123456789ab.tmp",
        ".pcopy--12-0123456789ab.tmp", ".pcopy-host-0-0123456789ab.tmp",
        ".pcopy-host-12-0123456789ag.tmp", ".pcopy-12-0123456789ab.tmp"}) {
    EXPECT_FALSE(ParseTemporaryName(name, &owner)) << name;
  }
  ASSERT_TRUE(ParseTemporaryName(".pcopy-my.host_1-4242-00000000abcd.tmp", &owner));
  EXPECT_EQ(owner.host, "my.host_1");
  EXPECT_EQ(owner.pid, 4242);
}

TEST(LeftoversTest, RemovesOnlyThisHostsTemporariesOfDeadProcesses) {
  TempDir t;
  const std::string host = HostForNames();
  const std::string dead = Name(host, DeadPid());
  const std::string alive = Name(host, getppid());
  const std::string mine = Name(host, getpid());
  const std::string other_host = Name(host + "x", DeadPid());
  const std::string not_ours = "dead.tmp";
  for (const std::string& n : {dead, alive, mine, other_host, not_ours}) WriteFile(t / n, "x");
  // A dead tree copy's hidden directory goes whole; a FIFO or symlink of that name is not one
  // of pcopy's and stays.
  const std::string dead_dir = Name(host, DeadPid());
  ASSERT_EQ(mkdir((t / dead_dir).c_str(), 0700), 0);
  ASSERT_EQ(mkdir((t / dead_dir + "/sub").c_str(), 0700), 0);
  WriteFile(t / dead_dir + "/sub/file", "x");
  const std::string dead_fifo = Name(host, DeadPid());
  ASSERT_EQ(mkfifo((t / dead_fifo).c_str(), 0600), 0);

  std::vector<std::string> removed = RemoveLeftovers(t.path());
  std::sort(removed.begin(), removed.end());
  std::vector<std::string> expected{dead, dead_dir};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(removed, expected);
  EXPECT_FALSE(Exists(t / dead));
  EXPECT_FALSE(Exists(t / dead_dir));
  for (const std::string& n : {alive, mine, other_host, not_ours, dead_fifo}) {
    EXPECT_TRUE(Exists(t / n)) << n;
  }
}

TEST(LeftoversTest, PartialNamesAreStableAndDistinct) {
  const PartialNames a = PartialNamesFor("big.img");
  EXPECT_EQ(a.data, PartialNamesFor("big.img").data);
  EXPECT_EQ(a.data.substr(0, 15), ".pcopy-partial-");
  EXPECT_EQ(a.data.size(), 15 + 16 + 5u);
  EXPECT_EQ(a.journal, a.data.substr(0, a.data.size() - 5) + ".journal");
  EXPECT_NE(a.data, PartialNamesFor("big.img2").data);
  TemporaryOwner owner;
  EXPECT_FALSE(ParseTemporaryName(a.data, &owner));  // never taken for a dead process's temporary
}

// A kept partial copy goes only once its journal is kPartialLifetime old and nobody holds its
// lock; the data file goes with its journal.
TEST(LeftoversTest, PartialCopiesGoOnlyWhenOldAndUnlocked) {
  TempDir t;
  const PartialNames old_one = PartialNamesFor("old"), fresh = PartialNamesFor("fresh"),
                     held = PartialNamesFor("held");
  for (const PartialNames* n : {&old_one, &fresh, &held}) {
    WriteFile(t / n->data, "d");
    WriteFile(t / n->journal, "j");
  }
  const time_t long_ago = time(nullptr) - kPartialLifetime - 60;
  for (const PartialNames* n : {&old_one, &held}) {
    const struct timespec times[2] = {{long_ago, 0}, {long_ago, 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, (t / n->journal).c_str(), times, 0), 0);
  }
  const int lock = open((t / held.journal).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(lock, 0);
  ASSERT_EQ(flock(lock, LOCK_EX), 0);  // another open file: RemoveLeftovers' own lock fails
  std::vector<std::string> removed = RemoveLeftovers(t.path());
  close(lock);
  std::sort(removed.begin(), removed.end());
  std::vector<std::string> expected{old_one.data, old_one.journal};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(removed, expected);
  for (const std::string& n : {fresh.data, fresh.journal, held.data, held.journal}) {
    EXPECT_TRUE(Exists(t / n)) << n;
  }
}

TEST(LeftoversTest, MissingDirectoryIsNoError) {
  EXPECT_TRUE(RemoveLeftovers("/nonexistent/pcopy/dir").empty());
}

}  // namespace
}  // namespace pcopy
