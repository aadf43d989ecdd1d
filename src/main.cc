// main.cc: the pcopy command. Parses the command line, prints --help or --version, or runs the
// job it asks for (app/command.h) with the signal guard and the console streams, and returns the
// exit code. All logic lives in the pcopy library.
#include <csignal>
#include <cstdio>

#include "app/command.h"
#include "app/options.h"
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
    return pcopy::PrintToStdout(cmd.text);
  }
  pcopy::SetUnits(cmd.options.si ? pcopy::Units::kSi : pcopy::Units::kBinary);
  // A closed stderr pipe must make a progress write fail, not kill the parent with SIGPIPE before
  // it can remove the temporary and reap its workers.
  std::signal(SIGPIPE, SIG_IGN);
  pcopy::SignalGuard signals;
  return pcopy::RunOnConsole(signals, /*report=*/true, [&](const pcopy::Console& console) {
    return pcopy::RunAction(cmd, signals, console);
  });
}
