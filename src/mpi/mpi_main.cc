// mpi_main.cc: the pcopy-mpi command, run by mpirun (or srun) on every rank. Parses the command
// line as pcopy does, runs one copy across every rank of the job, and on rank 0 prints the error
// if there is one; every rank returns the same exit code. All logic lives in the pcopy library
// and mpi/.
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "app/options.h"
#include "base/program_name.h"
#include "mpi/mpi_copy.h"
#include "mpi/mpi_tree.h"
#include "mpi/mpi_world.h"
#include "os/signal_guard.h"

int main(int argc, char** argv) {
  // Open MPI backs the board's window with a file in /dev/shm, which a rank killed outright leaves
  // there; in the job's session directory, mpirun removes it when the job ends, whatever happened
  // to the ranks. (A user's own setting wins.)
  if (const char* session = getenv("OMPI_MCA_orte_jobfam_session_dir"); session != nullptr) {
    setenv("OMPI_MCA_osc_sm_backing_directory", session, 0);
  }
  pcopy::SetProgramName("pcopy-mpi");
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
            "  or:  mpirun -np N pcopy-mpi [OPTION]... SOURCE... DIRECTORY\n"
            "Copy a file or a tree with every rank of an MPI job, on a file system that\n"
            "every rank shares under the same paths; DEST appears only when complete.\n"
            "The options are pcopy's, below, with these differences: --bwlimit limits\n"
            "each rank; -j (local workers per rank), --resume and the modes other\n"
            "than the copy are pcopy's alone.\n\n",
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
              "pcopy-mpi: copies files and trees; --checksum, --check, --compare, "
              "--demo and --discard-partial are pcopy's\n");
    }
    return pcopy::kExitUsage;
  }
  const pcopy::Options& o = cmd.options;
  // Rank 0 looks at the operands; every rank takes the same road.
  const bool tree = world.BroadcastInt(world.rank() == 0 && pcopy::IsTreeCopy(o) ? 1 : 0) != 0;
  const char* refused = o.resume == pcopy::ResumeMode::kAlways           ? "--resume"
                        : cmd.options.jobs_given && cmd.options.jobs > 1 ? "-j"
                                                                         : nullptr;
  if (refused != nullptr) {
    if (world.rank() == 0) {
      if (refused[1] == 'j') {
        fprintf(stderr,
                "pcopy-mpi: -j %u: local workers per rank are not supported yet (MPI "
                "processes cannot fork): run more ranks per node instead\n",
                o.jobs);
      } else {
        fprintf(stderr, "pcopy-mpi: %s: not supported yet (pcopy resumes)\n", refused);
      }
    }
    return pcopy::kExitUsage;
  }
  if (tree && (o.verify || o.print_digest)) {
    if (world.rank() == 0) {
      fprintf(stderr,
              "pcopy-mpi: --verify and --print-digest copy one regular file; %s is not one\n",
              pcopy::Quote(o.sources.size() == 1 ? o.sources[0] : o.dest).c_str());
    }
    return pcopy::kExitFailure;
  }
  std::signal(SIGPIPE, SIG_IGN);
  pcopy::SignalGuard signals;
  const pcopy::Console console;
  const pcopy::CopyOutcome outcome =
      tree ? pcopy::RunMpiTreeCopy(cmd.options, signals, console, world)
           : pcopy::RunMpiCopy(cmd.options, signals, console, world);
  if (world.rank() == 0) {
    if (!outcome.status.ok()) fprintf(stderr, "pcopy-mpi: %s\n", outcome.status.ToString().c_str());
    for (const std::string& note : outcome.report.notes) {
      fprintf(stderr, "pcopy-mpi: %s\n", note.c_str());
    }
  }
  fflush(stdout);
  return outcome.exit_code;
}
