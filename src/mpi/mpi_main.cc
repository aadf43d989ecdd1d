// mpi_main.cc: the pcopy-mpi command, run by mpirun (or srun) on every rank. Parses the command
// line as pcopy does, runs one copy across every rank of the job, and on rank 0 prints the error
// if there is one; every rank returns the same exit code. All logic lives in the pcopy library
// and mpi/.
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "app/options.h"
#include "mpi/mpi_copy.h"
#include "mpi/mpi_world.h"
#include "os/signal_guard.h"

int main(int argc, char** argv) {
  // Open MPI backs the board's window with a file in /dev/shm, which a rank killed outright leaves
  // there; in the job's session directory, mpirun removes it when the job ends, whatever happened
  // to the ranks. (A user's own setting wins.)
  if (const char* session = getenv("OMPI_MCA_orte_jobfam_session_dir"); session != nullptr) {
    setenv("OMPI_MCA_osc_sm_backing_directory", session, 0);
  }
  pcopy::MpiWorld world(&argc, &argv);
  pcopy::CommandLine cmd;
  if (pcopy::Status s = pcopy::ParseCommandLine(argc, argv, &cmd); !s.ok()) {
    if (world.rank() == 0) fprintf(stderr, "pcopy-mpi: %s\n", s.ToString().c_str());
    return pcopy::kExitUsage;
  }
  if (cmd.action == pcopy::Action::kHelp || cmd.action == pcopy::Action::kVersion) {
    if (world.rank() == 0) {
      if (cmd.action == pcopy::Action::kHelp) {
        fputs(
            "Usage: mpirun -np N pcopy-mpi [OPTION]... SOURCE DEST\n"
            "Copy one regular file with every rank of an MPI job, on a file system that\n"
            "every rank shares; DEST appears only when every rank's part is complete.\n"
            "The options are pcopy's, below, with these differences: --bwlimit limits\n"
            "each rank; -j (local workers per rank), trees, --resume, --verify,\n"
            "--print-digest and the modes other than the copy are pcopy's alone.\n\n",
            stdout);
        fputs(cmd.text.c_str(), stdout);
      } else {
        printf("pcopy-mpi %s (with MPI)\n", PCOPY_VERSION);
      }
    }
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
  const pcopy::Options& o = cmd.options;
  const char* alone = o.recursive                                     ? "-r, -a (trees)"
                      : o.sources.size() > 1 || o.target_is_directory ? "several SOURCEs, -t"
                      : o.verify                                      ? "--verify"
                      : o.print_digest                                ? "--print-digest"
                      : o.resume == pcopy::ResumeMode::kAlways        ? "--resume"
                                                                      : nullptr;
  if (alone != nullptr) {
    if (world.rank() == 0) {
      fprintf(stderr,
              "pcopy-mpi: %s: not supported yet; pcopy-mpi copies one regular file (pcopy "
              "does the rest)\n",
              alone);
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
