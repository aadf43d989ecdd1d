#include "app/command.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "app/check_job.h"
#include "app/checksum_job.h"
#include "app/demo.h"
#include "app/resume_copy.h"
#include "app/stdout_copy.h"
#include "app/tree_job.h"
#include "base/program_name.h"
#include "os/console_stream.h"

namespace pcopy {

namespace {

void SayWriteError(FILE* err, int error) {
  fprintf(err, "%s: write error on standard output%s%s\n", ProgramName(), error != 0 ? ": " : "",
          error != 0 ? strerror(error) : "");
}

}  // namespace

CopyOutcome RunAction(const CommandLine& cmd, SignalGuard& signals, const Console& console) {
  switch (cmd.action) {
    case Action::kDemo:
      return RunDemo(cmd.options, signals, console);
    case Action::kCompare:
      return RunCompare(cmd.options, signals, console);
    case Action::kChecksum:
      return RunChecksum(cmd.options, signals, console);
    case Action::kCheck:
      return RunCheck(cmd.options, signals, console);
    case Action::kDiscardPartial:
      return RunDiscardPartial(cmd.options, console);
    default:
      return RunCopyCommand(cmd.options, signals, console);
  }
}

int ReportOutcome(const CopyOutcome& outcome, const Console& console, int out_error, int signal) {
  if (out_error != 0 && signal != 0 && outcome.status.signal() == 0) {
    // The job was done; a signal cut the last of its output short, in the flush that waited for
    // a reader that did not read.
    return ReportOutcome(CopyOutcome{Status::Interrupted(signal), ExitCodeForSignal(signal), {}},
                         console, out_error, signal);
  }
  if (!outcome.status.ok()) {
    fprintf(console.err, "%s: %s\n", ProgramName(), outcome.status.ToString().c_str());
  }
  for (const std::string& note : outcome.report.notes) {
    fprintf(console.err, "%s: %s\n", ProgramName(), note.c_str());
  }
  if (out_error == 0 || outcome.status.signal() != 0) return outcome.exit_code;
  if (out_error == EPIPE) return outcome.exit_code == kExitOk ? kExitBrokenPipe : outcome.exit_code;
  SayWriteError(console.err, out_error);
  return outcome.exit_code == kExitOk ? kExitFailure : outcome.exit_code;
}

int RunOnConsole(SignalGuard& signals, bool report,
                 const std::function<CopyOutcome(const Console&)>& job) {
  ConsoleStream out(STDOUT_FILENO, "-", &signals, /*unbuffered=*/false);
  ConsoleStream err(STDERR_FILENO, "-", &signals, /*unbuffered=*/true);
  const Console console{out.file(), err.file(), STDOUT_FILENO, STDERR_FILENO};
  const CopyOutcome outcome = job(console);
  errno = 0;
  const bool flushed = fflush(console.out) == 0 && !ferror(console.out);
  const int out_error = flushed ? 0 : out.error() != 0 ? out.error() : errno != 0 ? errno : EIO;
  if (!report) return outcome.exit_code;
  return ReportOutcome(outcome, console, out_error, signals.terminating_signal());
}

int PrintToStdout(const std::string& text) {
  // A text longer than stdout's buffer fails in fputs, which sets errno, and then in fflush,
  // which may not set it again.
  const int put_error = fputs(text.c_str(), stdout) == EOF ? errno : 0;
  errno = 0;
  if (fflush(stdout) == 0 && !ferror(stdout)) return kExitOk;
  SayWriteError(stderr, errno != 0 ? errno : put_error);
  return kExitFailure;
}

}  // namespace pcopy
