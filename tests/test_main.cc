// test_main.cc: the test binary's main. It makes this process a child subreaper, so any worker
// that outlives its pcopy parent is re-parented here, and checks after every test that no child
// process remains (none of ours, and no orphaned worker), that nothing named pcopy was left in
// /dev/shm, and that the test left this process's signals and environment as it found them: the
// suite runs as a few processes of many tests each (PCOPY_TEST_SHARDS), where a blocked or
// ignored SIGINT, or an ASAN_OPTIONS without leak checks, would pass to every pcopy a later test
// starts.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

std::vector<std::string> ShmObjects() {
  std::vector<std::string> found;
  if (DIR* d = opendir("/dev/shm")) {
    while (dirent* e = readdir(d)) {
      if (std::string(e->d_name).find("pcopy") != std::string::npos) found.push_back(e->d_name);
    }
    closedir(d);
  }
  return found;
}

// The signals whose state a test could leave behind for later tests' children.
constexpr int kWatchedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE, SIGQUIT};

// The flags that change what a disposition does. glibc adds SA_RESTORER to every sigaction it
// sets, and the kernel reports it back; without a handler only SIGCHLD's own flags mean anything.
int SignificantFlags(const struct sigaction& a) {
  constexpr int kRestorer = 0x04000000;  // SA_RESTORER, which glibc's headers do not define
  if (a.sa_handler == SIG_DFL || a.sa_handler == SIG_IGN) {
    return a.sa_flags & (SA_NOCLDWAIT | SA_NOCLDSTOP);
  }
  return a.sa_flags & ~kRestorer;
}

// What a test could leave changed in this process for the tests after it, in one process of many
// tests: the signal mask, pending and dispositions (handler and flags: SA_NOCLDWAIT on SIGCHLD
// would reap later tests' children), and the environment (ASAN_OPTIONS, PCOPY_*, OMPI_MCA_*).
struct ProcessState {
  sigset_t mask;
  struct sigaction actions[std::size(kWatchedSignals)];
  std::vector<std::string> environment;  // sorted NAME=VALUE

  static ProcessState Now() {
    ProcessState s;
    sigprocmask(SIG_SETMASK, nullptr, &s.mask);
    for (size_t i = 0; i < std::size(kWatchedSignals); ++i) {
      sigaction(kWatchedSignals[i], nullptr, &s.actions[i]);
    }
    for (char** e = environ; *e != nullptr; ++e) s.environment.emplace_back(*e);
    std::sort(s.environment.begin(), s.environment.end());
    return s;
  }
  // The first difference from other, in words; empty when there is none. A signal left pending
  // is one: the next test's SignalGuard would take it.
  std::string Differs(const ProcessState& other) const {
    sigset_t pending;
    sigpending(&pending);
    for (size_t i = 0; i < std::size(kWatchedSignals); ++i) {
      const int sig = kWatchedSignals[i];
      const std::string name = strsignal(sig);
      if (sigismember(&mask, sig) != sigismember(&other.mask, sig)) return "the mask of " + name;
      if (sigismember(&pending, sig)) return name + " left pending";
      if (actions[i].sa_handler != other.actions[i].sa_handler ||
          SignificantFlags(actions[i]) != SignificantFlags(other.actions[i])) {
        return "the disposition of " + name;
      }
    }
    std::vector<std::string> changed;
    std::set_symmetric_difference(environment.begin(), environment.end(), other.environment.begin(),
                                  other.environment.end(), std::back_inserter(changed));
    return changed.empty() ? "" : "the environment (" + changed[0] + ")";
  }
  void Restore() const {
    sigprocmask(SIG_SETMASK, &mask, nullptr);
    for (size_t i = 0; i < std::size(kWatchedSignals); ++i) {
      sigaction(kWatchedSignals[i], &actions[i], nullptr);
    }
    clearenv();
    for (const std::string& entry : environment) {
      const size_t eq = entry.find('=');
      setenv(entry.substr(0, eq).c_str(), entry.substr(eq + 1).c_str(), 1);
    }
  }
};

class LeftoverCheck : public testing::EmptyTestEventListener {
 public:
  LeftoverCheck() : state_(ProcessState::Now()) {}

 private:
  void OnTestEnd(const testing::TestInfo& info) override {
    const std::string changed = ProcessState::Now().Differs(state_);
    EXPECT_EQ(changed, "") << info.test_suite_name() << "." << info.name()
                           << " left this process changed";
    if (!changed.empty()) state_.Restore();
    // A killed pcopy's workers die through PR_SET_PDEATHSIG; the kernel delivers it in its own
    // time: reap whatever arrives here until no child is left.
    std::vector<pid_t> kids;
    const testing::AssertionResult none_left = pcopy::test::WaitUntil("no child process", [&] {
      while (waitpid(-1, nullptr, WNOHANG) > 0) {
      }
      kids = pcopy::test::ChildrenOf(getpid());
      return kids.empty();
    });
    EXPECT_TRUE(none_left) << info.test_suite_name() << "." << info.name() << " left "
                           << kids.size() << " child process(es) running, first pid "
                           << (kids.empty() ? 0 : kids[0]);
    for (pid_t k : kids) kill(k, SIGKILL);
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    // A process pool's queue has a name for an instant before it is unlinked; another test
    // process running at the same time (ctest -j) can be caught in it. A leak stays.
    const std::vector<std::string> shm = pcopy::test::LingeringNames(ShmObjects);
    EXPECT_TRUE(shm.empty()) << info.name() << " left /dev/shm/" << (shm.empty() ? "" : shm[0]);
  }

  const ProcessState state_;
};

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // A listener that raises failures must come before the printer, or its failures go unshown.
  testing::TestEventListeners& listeners = testing::UnitTest::GetInstance()->listeners();
  testing::TestEventListener* printer = listeners.Release(listeners.default_result_printer());
  listeners.Append(new LeftoverCheck);
  listeners.Append(printer);
  return RUN_ALL_TESTS();
}
