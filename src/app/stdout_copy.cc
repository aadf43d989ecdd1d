#include "app/stdout_copy.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "app/progress_choice.h"
#include "app/stream_progress.h"
#include "base/program_name.h"
#include "base/size_parse.h"
#include "copy/io.h"
#include "os/source_file.h"
#include "os/stream_io.h"

namespace pcopy {
namespace {

class StdoutCopy {
 public:
  StdoutCopy(const Options& o, SignalGuard& signals, const Console& console, const SysCalls& sys)
      : o_(o),
        signals_(signals),
        console_(console),
        sys_(sys),
        out_(console.OutFd(), "-", &signals),
        buffer_(std::max(o.buffer_size, kMinStreamBuffer)) {}

  CopyOutcome Run() {
    if (Status s = Open(); !s.ok()) return Failed(std::move(s));
    if (o_.verbose) {
      fprintf(console_.err, "%s: writing %s to standard output in order, in this process\n",
              ProgramName(), Quote(o_.source).c_str());
    }
    // A terminal on stdout is where the data goes: no bar drawn into it, as cat draws none.
    const bool data_on_terminal = o_.progress == ProgressMode::kAuto && isatty(console_.OutFd());
    view_ = data_on_terminal ? nullptr : MakeProgress(o_, console_);
    shown_ = view_ != nullptr && ShowsProgress(o_, console_);
    progress_.emplace(view_.get(), src_.size);
    // A stall at either end: the time runs on, the rate falls.
    const auto stalled = [this] { progress_->Tick(out_.written()); };
    out_.set_idle(stalled);
    Status s = src_.kind == SourceKind::kStream
                   ? ReadStream(
                         src_.fd.get(), o_.source, &signals_, buffer_,
                         [this](const char* d, size_t n) { return Take(d, n); }, stalled)
                   : ReadFile();
    if (s.ok() && o_.fsync) s = out_.Sync();
    progress_->Finish(out_.written(), s.ok(), s.signal() != 0);
    if (!s.ok()) return Failed(std::move(s));
    Report();
    return {};
  }

 private:
  // SOURCE opened, and refused where it is standard output's own file: cat's "input file is
  // output file", since reading on while appending would never end.
  Status Open() {
    if (Status s = o_.source == "-" ? OpenStandardInput(&src_, sys_)
                                    : OpenSource(o_.source, &src_, SourceUse::kCopy, sys_);
        !s.ok()) {
      return s;
    }
    struct stat st;
    if (fstat(console_.OutFd(), &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == src_.dev &&
        st.st_ino == src_.ino) {
      return Status::Message(Quote(o_.source) + " and standard output are the same file");
    }
    return signals_.Poll() != 0 ? Status::Interrupted(signals_.terminating_signal()) : Status{};
  }

  // A file or a device, read with pread from its start; to its end when its size is unknown
  // (a /proc file). A file that shrank under the copy is an error, as for a copy to a file.
  Status ReadFile() {
    for (uint64_t offset = 0;;) {
      if (signals_.Poll() != 0) return Status::Interrupted(signals_.terminating_signal());
      size_t want = buffer_.size();
      if (src_.size != 0) {
        if (offset >= src_.size) return {};
        want = static_cast<size_t>(std::min<uint64_t>(want, src_.size - offset));
      }
      size_t got = 0;
      if (IoError e =
              ReadFull(sys_, src_.fd.get(), IoFile::kSource, buffer_.data(), want, offset, &got);
          !e.ok()) {
        return ToStatus(e, o_.source, "-");
      }
      if (got == 0 && src_.size == 0) return {};
      if (got < want && src_.size != 0)
        return ToStatus(SourceChanged(offset + got), o_.source, "-");
      if (Status s = Take(buffer_.data(), got); !s.ok()) return s;
      offset += got;
    }
  }

  Status Take(const char* data, size_t n) {
    if (Status s = out_.Write(data, n); !s.ok()) return s;
    progress_->Tick(out_.written());
    return {};
  }

  CopyOutcome Failed(Status s) const {
    if (out_.broken_pipe()) return CopyOutcome{Status(), kExitBrokenPipe, {}};
    if (s.signal() != 0) {
      const int signal = s.signal();
      return CopyOutcome{
          Status::Interrupted(signal, out_.written() == 0 ? "nothing was written to standard output"
                                                          : "standard output got only part of it"),
          ExitCodeForSignal(signal),
          {}};
    }
    return CopyOutcome{std::move(s), kExitFailure, {}};
  }

  // cp -v's 'a' -> 'b' and the summary, both on stderr: stdout is the data.
  void Report() const {
    if (!o_.verbose && !shown_) return;
    if (o_.verbose) fprintf(console_.err, "%s -> '-'\n", Quote(o_.source).c_str());
    const double seconds = progress_->Elapsed();
    const uint64_t bytes = out_.written();
    fprintf(console_.err,
            "%s: copied %s in %.3f s (%s) in this process, method read/write to standard "
            "output%s\n",
            ProgramName(), FormatBytes(bytes).c_str(), seconds,
            FormatRate(seconds > 0 ? static_cast<double>(bytes) / seconds : 0).c_str(),
            o_.fsync ? ", fsync" : "");
  }

  const Options& o_;
  SignalGuard& signals_;
  const Console& console_;
  const SysCalls& sys_;
  SourceFile src_;
  StreamWriter out_;
  std::vector<char> buffer_;
  std::unique_ptr<ProgressObserver> view_;
  bool shown_ = false;  // progress is shown, so the summary ends it
  std::optional<StreamProgress> progress_;
};

}  // namespace

CopyOutcome RunCopyToStdout(const Options& o, SignalGuard& signals, const Console& console,
                            const SysCalls& sys) {
  return RunGuarded([&] { return StdoutCopy(o, signals, console, sys).Run(); });
}

}  // namespace pcopy
