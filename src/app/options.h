// options.h: the command line, parsed into Options by a pure function.
//
// ParseCommandLine never exits and never throws: Boost.Program_options' exceptions stay inside it
// and come out as a Status (a usage error, exit code 2).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "copy/io.h"
#include "copy/reflink.h"
#include "os/data_extents.h"
#include "os/metadata.h"
#include "plan/plan.h"

namespace pcopy {

enum class ProgressMode { kAuto, kBar, kPlain, kJson, kNone };

// Whether an interrupted copy keeps what it made durable for the next run (app/resume_copy.h).
// kAuto: with --fsync, for copies of at least 1 GiB of data.
enum class ResumeMode { kAuto, kAlways, kNever };

// Which symlinks a copy follows (cp's -P, -L, -H). kDefault: the command line's without -r, none
// with -r, as cp.
enum class Dereference { kDefault, kNever, kAlways, kCommandLine };

// What --checksum prints and --check compares (copy/digest.h): kTree, pcopy's XXH3-128 over
// 1 MiB leaf digests, read in parallel; kXxh128, the XXH3-128 of the whole file, read in order by
// one reader, as `xxhsum -H2` prints it.
enum class DigestKind { kTree, kXxh128 };

const char* MethodName(Method m);
const char* StrategyName(Strategy s);

inline constexpr uint64_t kDefaultChunkSize = 1ull << 20;
// The size of each write decides the size of the page-cache folios a new ext4 file gets, and
// large folios intermittently stall on a virtual machine: 4 GiB copies with 128 KiB writes were
// slow (2.3-5.8 s) in 10 runs of 10, with 32 KiB writes in 0-2 runs of 8-12 (README "Defaults").
// It is where --method auto's write size tuner starts, and the size it falls back to when a
// larger one stalls (copy/write_size_tuner.h); kMaxTunedWriteSize is the largest it tries.
inline constexpr uint64_t kDefaultBufferSize = 32ull << 10;
inline constexpr uint64_t kMaxTunedWriteSize = 1ull << 20;
// Writes above kDefaultBufferSize go to the first GiB of a copy only: past 0.8-2.1 GiB of them,
// every later write of the copy, small ones too, slowed to 0.2-0.4 GB/s in traces here, while
// 32 KiB writes alone ran through 4 GiB at 4 GB/s (README "Defaults").
inline constexpr uint64_t kLargeWriteBudget = 1ull << 30;
// A SOURCE less than kHotSourceShare in the page cache: each worker asks for the 16th chunk past
// its own (16 MiB with 1 MiB chunks), so reads are in flight while it writes (README "Defaults").
inline constexpr uint64_t kColdReadAheadChunks = 16;
// Tuning needs a SOURCE at least this share in the page cache, and at most kMaxTunedCopy bytes of
// data (app/method_choice.h UntunedBecause).
inline constexpr double kHotSourceShare = 0.5;
inline constexpr uint64_t kMaxTunedCopy = 2ull << 30;
// O_DIRECT requests wait for the device one by one: on 1 GiB, -j 2, 32 KiB requests ran at
// 0.31 GB/s, 128 KiB at 0.65 GB/s and 1 MiB (the default chunk, so the largest a range allows)
// at 0.91-1.11 GB/s; no page cache is involved, so the write-size trap does not apply.
inline constexpr uint64_t kDefaultDirectBufferSize = 1ull << 20;
inline constexpr unsigned kMaxJobs = 1024;
inline constexpr uint64_t kDefaultDemoSize = 1ull << 30;

struct Options {
  std::string source;  // a copy of one SOURCE: it, and DEST
  std::string dest;
  // Every SOURCE of the command line, and the DEST or -t DIRECTORY they go to.
  std::vector<std::string> sources;
  bool target_is_directory = false;  // -t DIRECTORY: dest is a directory to copy into
  bool no_target_directory = false;  // -T: dest is never a directory to copy into
  bool recursive = false;            // -r, -R, -a
  Dereference dereference = Dereference::kDefault;
  PreserveSet preserve;          // -p, --preserve, --no-preserve, -a
  bool one_file_system = false;  // -x
  bool update = false;           // -u: replace only a DEST older than SOURCE
  bool fail_fast = false;        // stop at the first entry that cannot be copied
  unsigned jobs = 1;        // ParseCommandLine sets the number of online CPUs unless -j is given
  bool jobs_given = false;  // -j was on the command line (a small copy then honours it)
  uint64_t chunk_size = kDefaultChunkSize;
  uint64_t buffer_size = kDefaultBufferSize;
  bool buffer_size_given = false;  // --buffer-size was on the command line: no tuning
  Method method = Method::kAuto;
  // dynamic: as fast as the others where every worker runs at the same speed, and much faster
  // where one does not (README "Choosing a strategy").
  Strategy strategy = Strategy::kDynamic;
  ProgressMode progress = ProgressMode::kAuto;
  SparseMode sparse = SparseMode::kAuto;     // --sparse: SOURCE's holes stay holes in DEST
  ReflinkMode reflink = ReflinkMode::kAuto;  // --reflink: clone where the file system can
  bool no_clobber = false;
  bool force = false;  // -f: replace a DEST this user may not write (pcopy renames over it anyway)
  bool fsync = false;  // --resume implies it: a record is only as good as the data
  ResumeMode resume = ResumeMode::kAuto;
  // --resume-by-content: a tree's files already at DEST count as copied only if their bytes match
  // (by default: size and mtime where timestamps are preserved, bytes otherwise).
  bool resume_content = false;
  bool verbose = false;
  bool quiet = false;
  bool si = false;            // --si: sizes and rates in powers of 1000 (SetUnits)
  bool verify = false;        // --verify: compare the copy with the source before publishing it
  bool print_digest = false;  // --print-digest: print DEST's tree digest after the copy
  std::vector<std::string> files;  // --checksum: the files to digest; --check: the lists to read
  DigestKind digest = DigestKind::kTree;  // --checksum=ALGO, --check=ALGO
  uint64_t bwlimit = 0;                   // bytes per second for the whole copy; 0 = unlimited
  double slow_worker = 1;                 // worker 0 runs this many times slower (benchmarking aid)
  unsigned retries = 3;       // workers that die or stall may be replaced this many times
  double stall_timeout = 60;  // seconds without progress before a worker is replaced; 0: off
  uint64_t demo_size = kDefaultDemoSize;
};

enum class Action { kCopy, kDemo, kCompare, kChecksum, kCheck, kDiscardPartial, kHelp, kVersion };

struct CommandLine {
  Action action = Action::kCopy;
  Options options;
  std::string text;  // the help or version text for kHelp / kVersion
};

// argv[0] is ignored. No arguments at all means the built-in demo.
Status ParseCommandLine(int argc, const char* const* argv, CommandLine* out);

// What --version prints, as GNU tools print theirs: the program's name (ProgramName()) and
// version, the compiler and libraries it was built with, and whether pcopy-mpi was built (where
// CMake found MPI), so that a bug report says which build it is about.
std::string VersionText();

unsigned OnlineCpus();

}  // namespace pcopy
