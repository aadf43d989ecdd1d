// test_main.cc: the test binary's main. It makes this process a child subreaper, so any worker
// that outlives its pcopy parent is re-parented here, and checks after every test that no child
// process remains (none of ours, and no orphaned worker), that nothing named pcopy was left in
// /dev/shm, and that the test left this process's signal mask and dispositions as it found them:
// the suite also runs as a few processes of many tests each (PCOPY_TEST_SHARDS), where a blocked
// or ignored SIGINT would pass to every pcopy a later test starts.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

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

struct SignalState {
  sigset_t mask;
  void (*handlers[std::size(kWatchedSignals)])(int);

  static SignalState Now() {
    SignalState s;
    sigprocmask(SIG_SETMASK, nullptr, &s.mask);
    for (size_t i = 0; i < std::size(kWatchedSignals); ++i) {
      struct sigaction a;
      sigaction(kWatchedSignals[i], nullptr, &a);
      s.handlers[i] = a.sa_handler;
    }
    return s;
  }
  // The first difference from other, in words; empty when there is none.
  std::string Differs(const SignalState& other) const {
    for (size_t i = 0; i < std::size(kWatchedSignals); ++i) {
      const int sig = kWatchedSignals[i];
      if (sigismember(&mask, sig) != sigismember(&other.mask, sig))
        return std::string("the mask of ") + strsignal(sig);
      if (handlers[i] != other.handlers[i]) return std::string("the handler of ") + strsignal(sig);
    }
    return "";
  }
  void Restore() const {
    sigprocmask(SIG_SETMASK, &mask, nullptr);
    for (size_t i = 0; i < std::size(kWatchedSignals); ++i) {
      struct sigaction a {};
      a.sa_handler = handlers[i];
      sigemptyset(&a.sa_mask);
      sigaction(kWatchedSignals[i], &a, nullptr);
    }
  }
};

class LeftoverCheck : public testing::EmptyTestEventListener {
 public:
  LeftoverCheck() : signals_(SignalState::Now()) {}

 private:
  void OnTestEnd(const testing::TestInfo& info) override {
    const std::string changed = SignalState::Now().Differs(signals_);
    EXPECT_EQ(changed, "") << info.test_suite_name() << "." << info.name()
                           << " changed this process's signal state";
    if (!changed.empty()) signals_.Restore();
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

  const SignalState signals_;
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
