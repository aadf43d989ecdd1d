#include "app/demo.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <vector>

#include "app/random_file.h"
#include "base/size_parse.h"
#include "base/unique_fd.h"
#include "copy/digest.h"
#include "os/child_process.h"
#include "os/destination.h"
#include "os/temp_file.h"

namespace pcopy {
namespace {

// Where the demo's directory goes: $TMPDIR, or /tmp.
std::string DemoBase() {
  const char* tmp = getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

// The demo writes its source and the copy: twice its size. It also leaves room to spare, so that
// it never fills the file system to the last block while other programs (and the file system's
// own metadata: extent trees, the journal) need some: 5% of the file system, at most 256 MiB (on
// a large /tmp 256 MiB is plenty; on a small tmpfs 5% still lets a demo of nearly half its size
// run). Checked before anything is written, so --demo-size 100T is refused at once.
Status CheckDemoSpace(const std::string& dir, uint64_t size) {
  uint64_t available = 0, total = 0;
  if (!FreeSpace(RealSysCalls(), dir, &available, &total)) return {};
  const uint64_t margin = std::min<uint64_t>(total / 20, 256ull << 20);
  uint64_t needed = 0;
  const bool overflow = __builtin_mul_overflow(size, uint64_t{2}, &needed) ||
                        __builtin_add_overflow(needed, margin, &needed);
  if (!overflow && needed <= available) return {};
  return Status::Message("not enough space for the demo in " + Quote(dir) + ": " +
                         (overflow ? std::string("more than 16 EiB") : FormatBytes(needed)) +
                         " needed (twice " + FormatBytes(size) + " and " + FormatBytes(margin) +
                         " to spare), " + FormatBytes(available) +
                         " available; try a smaller --demo-size or another TMPDIR");
}

// Removes the demo's directory and whatever the demo put in it, on every path out.
class DemoDir {
 public:
  ~DemoDir() {
    for (const std::string& f : files_) unlink(f.c_str());
    if (!dir_.empty()) rmdir(dir_.c_str());
  }
  Status Create() {
    std::string templ = DemoBase() + "/pcopy-demo-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) {
      return Status::FromErrno("cannot create a demo directory in", DirName(templ), errno);
    }
    dir_ = templ;
    return {};
  }
  std::string File(const std::string& name) {
    files_.push_back(dir_ + "/" + name);
    return files_.back();
  }

 private:
  std::string dir_;
  std::vector<std::string> files_;
};

// cp SOURCE DEST, run from PATH in a child of the demo's, timed. The child dies with the demo
// (ChildProcess), and a terminating signal to the demo kills and reaps it.
struct CpRun {
  const char* argv[4];
};

int ExecCp(void* context) noexcept {
  auto* run = static_cast<CpRun*>(context);
  execvp("cp", const_cast<char* const*>(run->argv));
  return 127;  // as a shell says "command not found"
}

// *seconds: how long cp took; 0 when cp could not be run or failed (then *why says so).
Status TimeCp(const std::string& src, const std::string& dst, SignalGuard& signals, double* seconds,
              std::string* why) {
  *seconds = 0;
  CpRun run{{"cp", src.c_str(), dst.c_str(), nullptr}};
  ChildProcess cp;
  const auto start = std::chrono::steady_clock::now();
  if (Status s = ChildProcess::Spawn(&ExecCp, &run, 0, "cp", &cp); !s.ok()) return s;
  while (!cp.TryReap()) {
    if (const int sig = signals.Wait(std::chrono::milliseconds(100)); sig != 0 && sig != SIGCHLD) {
      return Status::Interrupted(sig);  // ~ChildProcess kills and reaps cp
    }
  }
  if (!cp.succeeded()) {
    *why = WIFEXITED(cp.wait_status()) && WEXITSTATUS(cp.wait_status()) == 127
               ? "no cp in PATH"
               : "cp " + cp.DescribeExit();
    return {};
  }
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {};
}

// main prints this after RunDemo has returned, when ~DemoDir has removed the files.
CopyOutcome DemoInterrupted(int signal) {
  return CopyOutcome{
      Status::Interrupted(signal, "the demo's files were removed"), ExitCodeForSignal(signal), {}};
}

}  // namespace

Status CompareFiles(const std::string& a, const std::string& b, bool* equal,
                    uint64_t* first_difference, SignalGuard* signals) {
  UniqueFd fa(open(a.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fa.valid()) return Status::FromErrno("cannot open", a, errno).WithTail("for reading");
  UniqueFd fb(open(b.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fb.valid()) return Status::FromErrno("cannot open", b, errno).WithTail("for reading");
  bool found = false, one_ended = false;
  if (Status s =
          CompareToEnd({fa.get(), a}, {fb.get(), b}, &found, first_difference, &one_ended, signals);
      !s.ok()) {
    return s;
  }
  *equal = !found;
  return {};
}

namespace {

// The options given to the demo that change how its copy runs, as a command line would give them
// (" --strategy contiguous --bwlimit 209715200", sizes in bytes), for the "after" line.
std::string CopyOptionWords(const Options& o) {
  const Options defaults;
  std::string words;
  const auto add = [&words](bool differs, const std::string& option) {
    if (differs) words += " " + option;
  };
  add(o.strategy != defaults.strategy, std::string("--strategy ") + StrategyName(o.strategy));
  add(o.method != defaults.method, std::string("--method ") + MethodName(o.method));
  add(o.chunk_size != defaults.chunk_size, "--chunk-size " + std::to_string(o.chunk_size));
  add(o.buffer_size_given, "--buffer-size " + std::to_string(o.buffer_size));
  add(o.bwlimit != defaults.bwlimit, "--bwlimit " + std::to_string(o.bwlimit));
  char factor[32];
  snprintf(factor, sizeof factor, "--slow-worker %g", o.slow_worker);
  add(o.slow_worker != defaults.slow_worker, factor);
  add(o.sparse == SparseMode::kAlways, "--sparse=always");
  add(o.sparse == SparseMode::kNever, "--sparse=never");
  add(o.reflink == ReflinkMode::kAlways, "--reflink=always");
  add(o.reflink == ReflinkMode::kNever, "--reflink=never");
  add(o.fsync, "--fsync");
  add(o.verify, "--verify");
  return words;
}

CopyOutcome Demo(const Options& options, SignalGuard& signals, const Console& console) {
  if (Status s = CheckDemoSpace(DemoBase(), options.demo_size); !s.ok()) {
    return CopyOutcome{s, kExitFailure, {}};
  }
  DemoDir dir;
  if (Status s = dir.Create(); !s.ok()) return CopyOutcome{s, kExitFailure, {}};
  Options o = options;
  o.source = dir.File("source.bin");
  o.dest = dir.File("copy.bin");
  if (!o.quiet) {
    fprintf(console.out, "pcopy demo: writing %s of random data to %s\n",
            FormatBytes(o.demo_size).c_str(), o.source.c_str());
    fflush(console.out);
  }
  if (Status s = WriteRandomFile(o.source, o.demo_size, 0x5eed, &signals); !s.ok()) {
    return CopyOutcome{s, kExitFailure, {}};
  }
  if (signals.Poll() != 0) return DemoInterrupted(signals.terminating_signal());
  // Before: cp on the same file, from the same page cache. Its copy is removed before pcopy's
  // starts: unlinked, its pages still waiting to be written are dropped, not written back into
  // pcopy's time.
  double cp_seconds = 0;
  std::string cp_skipped;
  const std::string cp_copy = dir.File("cp-copy.bin");
  if (!o.quiet) {
    fprintf(console.out, "pcopy demo: before: cp %s %s\n", o.source.c_str(), cp_copy.c_str());
    fflush(console.out);
  }
  if (Status s = TimeCp(o.source, cp_copy, signals, &cp_seconds, &cp_skipped); !s.ok()) {
    if (s.signal() != 0) return DemoInterrupted(s.signal());
    return CopyOutcome{s, kExitFailure, {}};
  }
  unlink(cp_copy.c_str());
  if (!o.quiet) {
    if (cp_seconds > 0) {
      fprintf(console.out, "pcopy demo: cp took %.3f s (%s)\n", cp_seconds,
              FormatRate(static_cast<double>(o.demo_size) / cp_seconds).c_str());
    } else {
      fprintf(console.out, "pcopy demo: %s: no comparison with cp\n", cp_skipped.c_str());
    }
    fprintf(console.out, "pcopy demo: after: pcopy -j %u%s %s %s\n", o.jobs,
            CopyOptionWords(o).c_str(), o.source.c_str(), o.dest.c_str());
    fflush(console.out);
  }
  // Timed as cp is, on the wall clock around the whole copy: the temporary's creation and
  // allocation included, which the copy's own summary leaves out.
  const auto start = std::chrono::steady_clock::now();
  CopyOutcome outcome = RunCopy(o, signals, console);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (outcome.status.signal() != 0) return DemoInterrupted(outcome.status.signal());
  if (!outcome.status.ok()) return outcome;

  bool equal = false;
  uint64_t where = 0;
  if (Status s = CompareFiles(o.source, o.dest, &equal, &where, &signals); !s.ok()) {
    if (s.signal() != 0) return DemoInterrupted(s.signal());
    return CopyOutcome{s, kExitFailure, outcome.report};
  }
  if (!equal) {
    return CopyOutcome{
        Status::Message("demo copy differs from its source at offset " + std::to_string(where)),
        kExitFailure, outcome.report};
  }
  const CopyReport& r = outcome.report;
  if (!o.quiet) {
    char against[96] = "";
    if (cp_seconds > 0 && seconds > 0) {
      snprintf(against, sizeof against, "; %.2fx cp's speed (cp: %.3f s)", cp_seconds / seconds,
               cp_seconds);
    }
    fprintf(console.out,
            "pcopy demo: pcopy took %.3f s for %s: %s with %zu worker%s (%s)%s. The copy is "
            "identical to the source, byte for byte. Removed the demo files.\n",
            seconds, FormatBytes(r.bytes).c_str(),
            FormatRate(seconds > 0 ? static_cast<double>(r.bytes) / seconds : 0).c_str(), r.workers,
            r.workers == 1 ? "" : "s", r.method.c_str(), against);
  }
  return outcome;
}

}  // namespace

CopyOutcome RunDemo(const Options& options, SignalGuard& signals, const Console& console) {
  return RunGuarded([&] { return Demo(options, signals, console); });
}

}  // namespace pcopy
