#include "app/demo.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "app/random_file.h"
#include "base/size_parse.h"
#include "base/unique_fd.h"
#include "copy/digest.h"
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
  if (!o.quiet) {
    fprintf(console.out, "pcopy demo: copying it with %u job%s (pcopy -j %u %s %s)\n", o.jobs,
            o.jobs == 1 ? "" : "s", o.jobs, o.source.c_str(), o.dest.c_str());
    fflush(console.out);
  }
  CopyOutcome outcome = RunCopy(o, signals, console);
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
    fprintf(console.out,
            "pcopy demo: copied %s in %.3f s: %s with %zu worker%s (%s); the copy is identical "
            "to the source. Removed the demo files.\n",
            FormatBytes(r.bytes).c_str(), r.seconds,
            FormatRate(r.seconds > 0 ? static_cast<double>(r.bytes) / r.seconds : 0).c_str(),
            r.workers, r.workers == 1 ? "" : "s", r.method.c_str());
  }
  return outcome;
}

}  // namespace

CopyOutcome RunDemo(const Options& options, SignalGuard& signals, const Console& console) {
  return RunGuarded([&] { return Demo(options, signals, console); });
}

}  // namespace pcopy
