#include "app/command.h"

#include <cstring>

#include "app/check_job.h"
#include "app/checksum_job.h"
#include "app/demo.h"
#include "app/resume_copy.h"
#include "app/stdout_copy.h"
#include "app/tree_job.h"
#include "base/program_name.h"

namespace pcopy {

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
  fprintf(console.err, "%s: write error on standard output: %s\n", ProgramName(),
          strerror(out_error));
  return outcome.exit_code == kExitOk ? kExitFailure : outcome.exit_code;
}

}  // namespace pcopy
