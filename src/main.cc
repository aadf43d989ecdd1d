// main.cc: the pcopy command. Parses the command line, prints --help or --version, or runs the
// job it asks for (app/command.h) with the signal guard and the console streams, and returns the
// exit code. All logic lives in the pcopy library.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "app/command.h"
#include "app/options.h"
#include "base/size_parse.h"
#include "os/console_stream.h"
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
  // stdout and stderr through streams whose writes wait in the guard (os/console_stream.h): a
  // reader that stalls cannot keep pcopy from a signal.
  pcopy::ConsoleStream out(STDOUT_FILENO, "-", &signals, /*unbuffered=*/false);
  pcopy::ConsoleStream err(STDERR_FILENO, "-", &signals, /*unbuffered=*/true);
  const pcopy::Console console{out.file(), err.file(), STDOUT_FILENO, STDERR_FILENO};
  const pcopy::CopyOutcome outcome = pcopy::RunAction(cmd, signals, console);
  errno = 0;
  const bool flushed = fflush(console.out) == 0 && !ferror(console.out);
  const int out_error = flushed ? 0 : out.error() != 0 ? out.error() : errno != 0 ? errno : EIO;
  return pcopy::ReportOutcome(outcome, console, out_error, signals.terminating_signal());
}
