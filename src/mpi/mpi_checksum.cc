#include "mpi/mpi_checksum.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <new>
#include <string>
#include <vector>

#include "app/checksum_job.h"
#include "app/digest_list.h"
#include "app/share_check.h"
#include "base/program_name.h"
#include "base/unique_fd.h"
#include "base/wire.h"
#include "exec/parallel_digest.h"
#include "os/source_file.h"

namespace pcopy {
namespace {

// What rank 0 tells the others about one FILE: whether they share it, and what it is.
struct Plan {
  uint8_t shared = 0;  // 1: every rank digests its share; 0: rank 0 did it alone
  uint64_t size = 0;
  int64_t mtime_sec = 0, mtime_nsec = 0;
};

// Rank 0: the file opened as pcopy opens it; a line or an error printed here unless it is shared
// (a tree digest of more than one leaf; --checksum=xxh128 has one reader, rank 0). '-' is
// standard input, which mpirun forwards to rank 0: read there, alone.
Plan Prepare(const std::string& name, const Options& o, SignalGuard& signals,
             const Console& console, Status* failure) {
  Plan plan;
  SourceFile f;
  struct stat st {};
  if (name != "-") {
    if (Status s = OpenSource(name, &f, SourceUse::kDigest); !s.ok()) {
      *failure = s;
      return plan;
    }
    if (o.digest == DigestKind::kTree && f.kind == SourceKind::kRegular && f.size > kLeafSize &&
        fstat(f.fd.get(), &st) == 0) {
      return Plan{1, f.size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
    }
  }
  std::string digest;
  *failure = DigestFile(name, o, &signals, &digest);
  if (failure->ok()) fprintf(console.out, "%s\n", DigestLine(digest, name).c_str());
  return plan;
}

// Every rank: its share of a shared FILE's leaves.
Status DigestShare(const std::string& name, const Plan& plan, const MpiWorld& world,
                   SignalGuard& signals, std::vector<Digest128>* digests) {
  const UniqueFd fd(open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  struct stat st;
  if (!fd.valid() || fstat(fd.get(), &st) != 0) {
    return Status::FromErrno("cannot open", name, errno).WithTail("for reading");
  }
  if (static_cast<uint64_t>(st.st_size) != plan.size || st.st_mtim.tv_sec != plan.mtime_sec ||
      st.st_mtim.tv_nsec != plan.mtime_nsec) {
    return Status::Failure("cannot read", name,
                           "this rank sees another file than rank 0 (a changed FILE, or not a "
                           "shared file system)");
  }
  LeafReport report;
  try {
    if (Status s =
            DigestLeaves({fd.get(), name}, {}, plan.size, 0,
                         LeafShare(plan.size, world.rank(), world.size()), &report, &signals);
        !s.ok()) {
      return s;
    }
  } catch (const std::bad_alloc&) {
    return Status::Message("out of memory");  // the collectives below must still be reached
  }
  *digests = std::move(report.digests);
  return {};
}

std::vector<char> EncodePlan(const Plan& p) {
  WireWriter w;
  w.Put(p);
  return w.Take();
}

Plan DecodePlan(const std::string& bytes) {
  Plan p;
  const std::vector<char> v(bytes.begin(), bytes.end());
  WireReader r(v);
  if (!r.Get(&p)) p.shared = 0;
  return p;
}

}  // namespace

CopyOutcome RunMpiChecksum(const Options& o, SignalGuard& signals, const Console& console,
                           const MpiWorld& world) {
  bool all_read = true;
  int signal = 0;
  for (const std::string& name : o.files) {
    // A line rank 0 could not write (its reader went away, a full disk) stops the job, as it
    // stops pcopy --checksum: the lines to come would be lost too. A write cut short by a signal
    // is the signal's. -1: output lost.
    const int stop = world.BroadcastInt(world.rank() != 0          ? 0
                                        : signals.Poll() != 0      ? signals.terminating_signal()
                                        : ferror(console.out) != 0 ? -1
                                                                   : 0);
    if (stop != 0) {
      signal = std::max(stop, 0);
      break;
    }
    Status failure;
    Plan plan;
    if (world.rank() == 0) plan = Prepare(name, o, signals, console, &failure);
    // A signal anywhere ends the job after this file; rank 0 says which.
    signal = world.BroadcastInt(world.rank() == 0 ? failure.signal() : 0);
    if (signal != 0) break;
    std::vector<char> encoded = EncodePlan(plan);
    plan = DecodePlan(world.Broadcast(std::string(encoded.begin(), encoded.end())));
    if (plan.shared != 0) {
      std::vector<Digest128> digests;
      const Status mine = DigestShare(name, plan, world, signals, &digests);
      std::string outcome = world.host() + "\n";
      if (mine.signal() != 0) {
        outcome.append("S").append(std::to_string(mine.signal()));
      } else if (!mine.ok()) {
        outcome.append("E").append(mine.ToString());
      }
      const std::vector<std::string> outcomes = world.Gather(outcome);
      const std::vector<std::string> shares = world.Gather(EncodeShare(digests, 0));
      if (world.rank() == 0) {
        for (size_t r = 0; r < outcomes.size() && failure.ok(); ++r) {
          const size_t newline = outcomes[r].find('\n');
          const std::string what = outcomes[r].substr(newline + 1);
          if (what.empty()) continue;
          failure = what[0] == 'S'
                        ? Status::Interrupted(std::stoi(what.substr(1)))
                        : Status::Message("rank " + std::to_string(r) + " on " +
                                          outcomes[r].substr(0, newline) + ": " + what.substr(1));
        }
        uint64_t recopied = 0;
        if (failure.ok() && !JoinShares(shares, &digests, &recopied)) {
          failure = Status::Message("a rank's digests of " + Quote(name) + " arrived damaged");
        }
        if (failure.ok())
          fprintf(console.out, "%s\n", DigestLine(TreeDigest(digests), name).c_str());
      }
      signal = world.BroadcastInt(world.rank() == 0 ? failure.signal() : 0);
      if (signal != 0) break;
    }
    if (world.rank() == 0 && !failure.ok()) {
      fflush(console.out);
      fprintf(console.err, "%s: %s\n", ProgramName(), failure.ToString().c_str());
      all_read = false;
    }
  }
  // A signal rank 0 took while it printed the last line ends every rank as it ends rank 0.
  if (signal == 0) signal = world.BroadcastInt(world.rank() == 0 ? signals.Poll() : 0);
  if (signal != 0) {
    return CopyOutcome{Status::Interrupted(signal, "the remaining files were not digested"),
                       ExitCodeForSignal(signal),
                       {}};
  }
  // Only rank 0 knows whether every file was read; every rank exits as it does.
  const int code = world.BroadcastInt(all_read ? kExitOk : kExitFailure);
  return CopyOutcome{{}, code, {}};
}

}  // namespace pcopy
