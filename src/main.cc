// main.cc: the pcopy command. Parses the command line, runs one copy (or the demo), prints the
// error if there is one, and returns the exit code. All logic lives in the pcopy library.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "app/check_job.h"
#include "app/checksum_job.h"
#include "app/copy_job.h"
#include "app/demo.h"
#include "app/options.h"
#include "app/resume_copy.h"
#include "app/tree_job.h"
#include "base/size_parse.h"
#include "os/signal_guard.h"
#include "os/stream_io.h"

int main(int argc, char** argv) {
  pcopy::HoldStandardDescriptors();  // before anything is opened
  pcopy::CommandLine cmd;
  if (pcopy::Status s = pcopy::ParseCommandLine(argc, argv, &cmd); !s.ok()) {
    fprintf(stderr, "pcopy: %s\n", s.ToString().c_str());
    return pcopy::kExitUsage;
  }
  if (cmd.action == pcopy::Action::kHelp || cmd.action == pcopy::Action::kVersion) {
    fputs(cmd.text.c_str(), stdout);
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout)) return pcopy::kExitOk;
    fprintf(stderr, "pcopy: write error on standard output%s%s\n", errno != 0 ? ": " : "",
            errno != 0 ? strerror(errno) : "");
    return pcopy::kExitFailure;
  }
  pcopy::SetUnits(cmd.options.si ? pcopy::Units::kSi : pcopy::Units::kBinary);
  // A closed stderr pipe must make a progress write fail, not kill the parent with SIGPIPE before
  // it can remove the temporary and reap its workers.
  std::signal(SIGPIPE, SIG_IGN);
  pcopy::SignalGuard signals;
  const pcopy::Console console;
  pcopy::CopyOutcome outcome;
  switch (cmd.action) {
    case pcopy::Action::kDemo:
      outcome = pcopy::RunDemo(cmd.options, signals, console);
      break;
    case pcopy::Action::kCompare:
      outcome = pcopy::RunCompare(cmd.options, signals, console);
      break;
    case pcopy::Action::kChecksum:
      outcome = pcopy::RunChecksum(cmd.options, signals, console);
      break;
    case pcopy::Action::kCheck:
      outcome = pcopy::RunCheck(cmd.options, signals, console);
      break;
    case pcopy::Action::kDiscardPartial:
      outcome = pcopy::RunDiscardPartial(cmd.options, console);
      break;
    default:
      outcome = pcopy::RunCopyCommand(cmd.options, signals, console);
  }
  if (!outcome.status.ok()) fprintf(stderr, "pcopy: %s\n", outcome.status.ToString().c_str());
  for (const std::string& note : outcome.report.notes) fprintf(stderr, "pcopy: %s\n", note.c_str());
  // As cp's close_stdout: a line that could not be written (a full disk, a closed stdout) is an
  // error, said once; errno is the cause only where this flush is what failed.
  errno = 0;
  if (fflush(stdout) != 0 || ferror(stdout)) {
    const int err = errno;
    fprintf(stderr, "pcopy: write error on standard output%s%s\n", err != 0 ? ": " : "",
            err != 0 ? strerror(err) : "");
    if (outcome.exit_code == pcopy::kExitOk) return pcopy::kExitFailure;
  }
  return outcome.exit_code;
}
