#include "os/leftovers.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "os/temp_file.h"
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

// PCOPY_IDLE_LIFETIME for the test's span: idleness is judged by ctime, which no test can set
// back, so tests wait out a short lifetime instead.
class IdleLifetimeOf {
 public:
  explicit IdleLifetimeOf(const char* seconds) { setenv("PCOPY_IDLE_LIFETIME", seconds, 1); }
  ~IdleLifetimeOf() { unsetenv("PCOPY_IDLE_LIFETIME"); }
};

// An open descriptor holding flock(LOCK_EX) on path, as a live owner holds it.
int Hold(const std::string& path, bool dir) {
  const int fd = open(path.c_str(), (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  EXPECT_GE(fd, 0) << path;
  EXPECT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0) << path;
  return fd;
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

// Another host's pid means nothing here: its temporaries go once idle IdleLifetime() and
// unlocked, a file or a hidden tree alike. A young one, or one whose lock is held (a live job on
// another node), stays.
TEST(LeftoversTest, AnotherHostsTemporariesGoOnlyWhenIdleAndUnlocked) {
  TempDir t;
  const IdleLifetimeOf two_seconds("2");
  const std::string other = HostForNames() + "x";
  const std::string young = Name(other, 101), idle = Name(other, 102), held = Name(other, 103);
  const std::string idle_dir = Name(other, 104), held_dir = Name(other, 105);
  for (const std::string& n : {idle, held}) WriteFile(t / n, "x");
  for (const std::string& n : {idle_dir, held_dir}) {
    ASSERT_EQ(mkdir((t / n).c_str(), 0700), 0);
    ASSERT_EQ(mkdir((t / n + "/sub").c_str(), 0700), 0);
    WriteFile(t / n + "/sub/file", "x");
  }
  // Two whole seconds (of ctime) pass for these; the young one is at most one second old.
  usleep(2100 * 1000);
  WriteFile(t / young, "x");
  // An old mtime (-p gives SOURCE's) does not make a temporary idle: ctime says when it changed.
  const struct timespec long_ago[2] = {{1, 0}, {1, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, (t / young).c_str(), long_ago, 0), 0);
  const int held_fd = Hold(t / held, false), held_dir_fd = Hold(t / held_dir, true);

  std::vector<std::string> removed = RemoveLeftovers(t.path());
  std::sort(removed.begin(), removed.end());
  std::vector<std::string> expected{idle, idle_dir};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(removed, expected);
  for (const std::string& n : {young, held, held_dir}) EXPECT_TRUE(Exists(t / n)) << n;
  EXPECT_TRUE(Exists(t / held_dir + "/sub/file"));

  // Their owners gone, the locks go with them.
  close(held_fd);
  close(held_dir_fd);
  removed = RemoveLeftovers(t.path());
  std::sort(removed.begin(), removed.end());
  expected = {held, held_dir};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(removed, expected);
}

// A held lock keeps even this host's temporary of a pid that is gone here: its owner lives
// elsewhere (another container with this host's name, another pid namespace).
TEST(LeftoversTest, AHeldLockKeepsATemporaryWhateverItsNameSays) {
  TempDir t;
  const std::string name = Name(HostForNames(), DeadPid());
  WriteFile(t / name, "x");
  const int fd = Hold(t / name, false);
  EXPECT_TRUE(RemoveLeftovers(t.path()).empty());
  EXPECT_TRUE(Exists(t / name));
  close(fd);
  EXPECT_EQ(RemoveLeftovers(t.path()), std::vector<std::string>{name});
}

// pcopy's own temporary is locked while it lives: seen by another host's run under another
// name (a hard link, the same file) and idle, it still stays until its owner is gone.
TEST(LeftoversTest, ALiveTemporaryIsLockedAgainstAnotherHostsRun) {
  TempDir t;
  const IdleLifetimeOf no_wait("0");  // every other host's temporary idle: the lock alone decides
  const std::string seen = Name(HostForNames() + "x", 4242);
  {
    TempFile temp;
    ASSERT_TRUE(TempFile::Create(t.path(), "dst", &temp).ok());
    ASSERT_EQ(link(temp.path().c_str(), (t / seen).c_str()), 0);
    EXPECT_TRUE(RemoveLeftovers(t.path()).empty());
    EXPECT_TRUE(Exists(t / seen));
  }
  EXPECT_EQ(RemoveLeftovers(t.path()), std::vector<std::string>{seen});
}

// A killed run's rename was near: the file already has its final mode (0444 for a read-only
// SOURCE), which a run without root's rights cannot open for writing. It is removed all the
// same, locked through a read-only descriptor.
TEST(LeftoversTest, AReadOnlyLeftoverIsRemoved) {
  struct NoWriteOpens : SysCalls {
    int openat(int dirfd, const char* path, int flags, mode_t mode) const override {
      if ((flags & O_ACCMODE) != O_RDONLY) {
        errno = EACCES;
        return -1;
      }
      return SysCalls::openat(dirfd, path, flags, mode);
    }
  } sys;
  TempDir t;
  const std::string name = Name(HostForNames(), DeadPid());
  WriteFile(t / name, "x");
  ASSERT_EQ(chmod((t / name).c_str(), 0444), 0);
  EXPECT_EQ(RemoveLeftovers(t.path(), sys), std::vector<std::string>{name});
  EXPECT_FALSE(Exists(t / name));
}

TEST(LeftoversTest, HeartbeatIsDueOncePerInterval) {
  Heartbeat beat(std::chrono::milliseconds(200));
  EXPECT_FALSE(beat.Due());
  usleep(250 * 1000);
  EXPECT_TRUE(beat.Due());
  EXPECT_FALSE(beat.Due());
  usleep(250 * 1000);
  EXPECT_TRUE(beat.Due());
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
