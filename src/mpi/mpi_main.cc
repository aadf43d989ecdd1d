// mpi_main.cc: the pcopy-mpi command, run by mpirun (or srun) on every rank. Parses the command
// line as pcopy does, runs one copy across every rank of the job, and on rank 0 prints the error
// if there is one; every rank returns the same exit code. All logic lives in the pcopy library
// and mpi/.
#include <csignal>
#include <cstdio>

#include "app/options.h"
#include "mpi/mpi_copy.h"
#include "mpi/mpi_world.h"
#include "os/signal_guard.h"

int main(int argc, char** argv) {
  pcopy::MpiWorld world(&argc, &argv);
  pcopy::CommandLine cmd;
  if (pcopy::Status s = pcopy::ParseCommandLine(argc, argv, &cmd); !s.ok()) {
    if (world.rank() == 0) fprintf(stderr, "pcopy-mpi: %s\n", s.ToString().c_str());
    return pcopy::kExitUsage;
  }
  if (cmd.action == pcopy::Action::kHelp || cmd.action == pcopy::Action::kVersion) {
    if (world.rank() == 0) fputs(cmd.text.c_str(), stdout);
    return pcopy::kExitOk;
  }
  if (cmd.action != pcopy::Action::kCopy) {
    if (world.rank() == 0) {
      fprintf(stderr,
              "pcopy-mpi: copies one regular file; --checksum, --check, --compare, "
              "--demo and --discard-partial are pcopy's\n");
    }
    return pcopy::kExitUsage;
  }
  if (cmd.options.jobs_given && cmd.options.jobs > 1) {
    if (world.rank() == 0) {
      fprintf(stderr,
              "pcopy-mpi: -j %u: local workers per rank are not supported yet (MPI "
              "processes cannot fork): run more ranks per node instead\n",
              cmd.options.jobs);
    }
    return pcopy::kExitUsage;
  }
  std::signal(SIGPIPE, SIG_IGN);
  pcopy::SignalGuard signals;
  const pcopy::Console console;
  const pcopy::CopyOutcome outcome = pcopy::RunMpiCopy(cmd.options, signals, console, world);
  if (world.rank() == 0) {
    if (!outcome.status.ok()) fprintf(stderr, "pcopy-mpi: %s\n", outcome.status.ToString().c_str());
    for (const std::string& note : outcome.report.notes) {
      fprintf(stderr, "pcopy-mpi: %s\n", note.c_str());
    }
  }
  fflush(stdout);
  return outcome.exit_code;
}
