#include "mpi/mpi_command.h"

#include <csignal>
#include <cstdio>
#include <string>

#include "app/command.h"
#include "app/options.h"
#include "base/size_parse.h"
#include "base/status.h"
#include "mpi/mpi_checksum.h"
#include "mpi/mpi_copy.h"
#include "mpi/mpi_tree.h"
#include "os/signal_guard.h"

namespace pcopy {
namespace {

constexpr const char* kHelpHeader =
    "Usage: mpirun -np N pcopy-mpi [OPTION]... SOURCE DEST\n"
    "  or:  mpirun -np N pcopy-mpi [OPTION]... SOURCE... DIRECTORY\n"
    "Copy a file or a tree with every rank of an MPI job, on a file system that\n"
    "every rank shares under the same paths; DEST appears only when complete.\n"
    "The options are pcopy's, below, with these differences: -j K forks K\n"
    "workers on each rank to copy (default 1: the rank copies itself; bind\n"
    "each rank to K cores); --bwlimit limits each rank; --checksum FILE...\n"
    "digests each large file with every rank; the other modes are pcopy's\n"
    "alone.\n\n";

// What pcopy-mpi does not do (yet) with this command line, in one line; "" if it does it all.
// tree: the command copies a tree (IsTreeCopy). *code: the exit code of the refusal.
std::string Refusal(const CommandLine& cmd, bool tree, int* code) {
  const Options& o = cmd.options;
  *code = kExitUsage;
  if (cmd.action != Action::kCopy && cmd.action != Action::kChecksum) {
    return "copies files and trees, and digests files (--checksum); --check, --compare, --demo "
           "and --discard-partial are pcopy's";
  }
  if (cmd.action == Action::kChecksum) return "";
  if ((o.dest == "-" && !o.target_is_directory) || o.source == "-") {
    return "'-' (standard input or output) is pcopy's: the ranks read and write files by offset";
  }
  if (o.jobs_given && o.jobs > 1 && o.slow_worker > 1) {
    return "--slow-worker slows rank 0, which copies itself: not with -j " + std::to_string(o.jobs);
  }
  if (tree && (o.verify || o.print_digest)) {
    *code = kExitFailure;  // as pcopy refuses it
    return "--verify and --print-digest copy one regular file; " +
           Quote(o.sources.size() == 1 ? o.sources[0] : o.dest) + " is not one";
  }
  return "";
}

// -j K: whether every rank started its workers (rank_workers.h); rank 0 reports the first that
// did not. Collective.
bool WorkersStarted(const RankWorkers& workers, const MpiWorld& world) {
  const std::vector<std::string> errors =
      world.Gather(workers.error.ok() ? "" : world.host() + ": " + workers.error.ToString());
  std::string first;
  for (size_t r = 0; r < errors.size() && first.empty(); ++r) {
    if (!errors[r].empty()) first = "rank " + std::to_string(r) + " on " + errors[r];
  }
  if (!first.empty()) fprintf(stderr, "pcopy-mpi: %s\n", first.c_str());
  return world.BroadcastInt(first.empty() ? 1 : 0) != 0;
}

}  // namespace

int RunMpiCommand(int argc, char** argv, const MpiWorld& world, RankWorkers& workers) {
  const bool root = world.rank() == 0;
  CommandLine cmd;
  if (Status s = ParseCommandLine(argc, argv, &cmd); !s.ok()) {
    if (root) fprintf(stderr, "pcopy-mpi: %s\n", s.ToString().c_str());
    return kExitUsage;
  }
  if (cmd.action == Action::kHelp || cmd.action == Action::kVersion) {
    if (!root) return kExitOk;
    return PrintToStdout(cmd.action == Action::kHelp ? kHelpHeader + cmd.text : cmd.text);
  }
  SetUnits(cmd.options.si ? Units::kSi : Units::kBinary);
  // Rank 0 looks at the operands; every rank takes the same road.
  const bool tree = cmd.action == Action::kCopy &&
                    world.BroadcastInt(root && IsTreeCopy(cmd.options) ? 1 : 0) != 0;
  int code = kExitOk;
  if (const std::string refused = Refusal(cmd, tree, &code); !refused.empty()) {
    if (root) fprintf(stderr, "pcopy-mpi: %s\n", refused.c_str());
    return code;
  }
  if (!WorkersStarted(workers, world)) return kExitFailure;
  Options o = cmd.options;
  o.jobs = workers.count();  // per rank; pcopy's default (every CPU) is not pcopy-mpi's
  if (const std::string note = BindingNote(workers); root && o.verbose && !note.empty()) {
    fprintf(stderr, "pcopy-mpi: %s\n", note.c_str());
  }
  std::signal(SIGPIPE, SIG_IGN);
  SignalGuard signals;
  // Rank 0 tells the outcome; the others' errors reach it through the job's collectives.
  return RunOnConsole(signals, /*report=*/root, [&](const Console& console) {
    return cmd.action == Action::kChecksum ? RunMpiChecksum(o, signals, console, world)
           : tree ? RunMpiTreeCopy(o, signals, console, world, workers.pool.get())
                  : RunMpiCopy(o, signals, console, world, workers.pool.get());
  });
}

}  // namespace pcopy
