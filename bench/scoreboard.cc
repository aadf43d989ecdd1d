// scoreboard.cc: `pcopy-bench --scoreboard` (scoreboard.h). Builds the regimes, checks the free
// space, generates one source per size, then times every contender of every regime once per
// round, in an order shuffled across all regimes each round with a fixed seed (a rerun repeats
// it): what one run leaves in memory changes how fast the next one gets memory, so no contender
// may always follow the same neighbour. Everything is made in one directory under --dir, which
// is removed at the end, on a failure and on SIGINT/SIGTERM/SIGHUP.
#include "scoreboard.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "app/demo.h"
#include "app/random_file.h"
#include "base/size_parse.h"
#include "base/unique_fd.h"
#include "lab.h"
#include "os/remove_tree.h"

namespace lab {
namespace {

constexpr uint64_t kGiB = 1ull << 30;
volatile sig_atomic_t g_stop = 0;  // set by SIGINT/SIGTERM/SIGHUP: stop after the current run

void OnStop(int) { g_stop = 1; }

Contender Make(Contender::Role role, std::string name, std::vector<Step> steps) {
  Contender c;
  c.role = role;
  c.name = std::move(name);
  c.steps = std::move(steps);
  return c;
}

// Default pcopy plus the regime's options; -q only keeps the progress bar off a terminal.
Contender Pcopy(const ScoreboardOptions& o, std::vector<std::string> options) {
  std::vector<std::string> argv = {o.pcopy, "-q"};
  argv.insert(argv.end(), options.begin(), options.end());
  std::string name = "pcopy";
  for (const std::string& opt : options) name += " " + opt;
  return Make(Contender::kPcopy, name, {{Step::kRun, argv}});
}

// "4 KiB", "64 MiB", "1 GiB": the regimes' sizes are whole units.
std::string Units(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int u = 0;
  while (u < 3 && bytes >= 1024 && bytes % 1024 == 0) bytes /= 1024, ++u;
  return std::to_string(bytes) + " " + units[u];
}

Regime MakeRegime(Regime::Prep prep, const std::string& kind, uint64_t nominal, uint64_t size) {
  Regime r;
  r.prep = prep;
  r.size = size;
  r.name = kind + " " + Units(nominal);
  if (size != nominal) r.name += " (as " + Units(size) + ")";
  return r;
}

std::vector<Regime> BuildRegimes(const ScoreboardOptions& o, bool can_drop) {
  const uint64_t mid = o.quick ? 64 << 20 : kGiB, big = o.quick ? 64 << 20 : 4 * kGiB;
  const Step cp{Step::kRun, {"cp"}}, sync{Step::kRun, {"sync"}, false};
  std::vector<Regime> r;
  r.push_back(MakeRegime(Regime::kHot, "hot", 64 << 20, 64 << 20));
  r.push_back(MakeRegime(Regime::kHot, "hot", kGiB, mid));
  r.push_back(MakeRegime(Regime::kHot, "hot", 4 * kGiB, big));
  r.push_back(MakeRegime(Regime::kFresh, "fresh memory", 4 * kGiB, big));
  r.push_back(MakeRegime(Regime::kCold, "cold source", 4 * kGiB, big));
  if (!can_drop) r.back().skipped = "needs root to drop the page cache";
  for (Regime& regime : r) {
    regime.contenders = {Make(Contender::kBaseline, "cp", {cp}), Pcopy(o, {})};
  }
  r[1].contenders.push_back(Pcopy(o, {"-j", "1"}));
  r[1].contenders.back().role = Contender::kOneJob;
  r[1].contenders.push_back(Make(Contender::kPython, kPythonTool,
                                 {{Step::kRun, {o.python, BENCH_DIR "/classic_two_process.py"}}}));
  r.push_back(MakeRegime(Regime::kHot, "durable", kGiB, mid));
  r.back().contenders = {Make(Contender::kBaseline, "cp && sync", {cp, sync}),
                         Pcopy(o, {"--fsync"})};
  // Without root the copy's pages are evicted by POSIX_FADV_DONTNEED, as pcopy --verify does.
  const Step evict{can_drop ? Step::kDropCaches : Step::kEvictDest, {}, false};
  const std::string drop = can_drop ? "drop caches" : "fadvise DONTNEED DEST";
  r.push_back(MakeRegime(Regime::kHot, "verified", kGiB, mid));
  r.back().contenders = {Make(Contender::kBaseline, "cp && sync && " + drop + " && cmp",
                              {cp, sync, evict, {Step::kRun, {"cmp", "-s"}}}),
                         Pcopy(o, {"--fsync", "--verify"})};
  r.push_back(MakeRegime(Regime::kHot, "small file", 4096, 4096));
  r.back().repetitions = o.quick ? 20 : 200;
  r.back().contenders = {Make(Contender::kBaseline, "cp", {cp}), Pcopy(o, {})};
  return r;
}

// Refuses when the sources and the largest copy would leave under 1 GiB or 5% free.
bool EnoughSpace(const std::string& dir, const std::vector<Regime>& regimes) {
  std::set<uint64_t> sizes;
  uint64_t largest = 0;
  for (const Regime& r : regimes) {
    sizes.insert(r.size);
    largest = std::max(largest, r.size * static_cast<uint64_t>(r.repetitions));
  }
  uint64_t needed = largest;
  for (const uint64_t size : sizes) needed += size;
  struct statvfs st;
  if (statvfs(dir.c_str(), &st) != 0) {
    fprintf(stderr, "pcopy-bench: cannot stat the file system of '%s'\n", dir.c_str());
    return false;
  }
  const uint64_t avail = st.f_bavail * st.f_frsize, total = st.f_blocks * st.f_frsize;
  const uint64_t keep = std::max(kGiB, total / 20);
  if (avail >= needed && avail - needed >= keep) return true;
  fprintf(stderr,
          "pcopy-bench: --scoreboard needs %s in '%s' (the sources and the largest copy) and must "
          "leave %s free (1 GiB or 5%% of the file system, whichever is more); only %s are free\n",
          pcopy::FormatBytes(needed).c_str(), dir.c_str(), pcopy::FormatBytes(keep).c_str(),
          pcopy::FormatBytes(avail).c_str());
  return false;
}

bool RunStep(const Step& step, const std::string& src, const std::string& dst) {
  if (step.kind == Step::kDropCaches) return DropCaches();
  if (step.kind == Step::kEvictDest) {
    pcopy::UniqueFd fd(open(dst.c_str(), O_RDONLY | O_CLOEXEC));
    return fd.valid() && posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED) == 0;
  }
  std::vector<std::string> argv = step.argv;
  if (step.with_paths) argv.insert(argv.end(), {src, dst});
  return RunCommand(argv, "") == 0;
}

// One run's state between runs: the copies the last run left, removed by the next one.
struct Bench {
  const ScoreboardOptions& o;
  std::string work;
  std::map<uint64_t, std::string> sources;  // by size
  std::vector<std::string> left;            // the previous run's copies
};

void Prepare(Bench& b, const Regime& r, const std::string& src) {
  SyncFs(b.work);  // the previous copy's writeback stays out of this run's time
  if (r.prep == Regime::kCold) {
    DropCaches();
  } else {
    ReadThrough(src);
  }
  for (const std::string& path : b.left) unlink(path.c_str());
  b.left.clear();
  if (r.prep == Regime::kFresh) {
    std::this_thread::sleep_for(std::chrono::duration<double>(b.o.settle));
  }
}

// Times one run (all its repetitions): seconds per copy, or 0 if a step failed or, in the
// first round, the copy differs from the source.
double TimeRun(Bench& b, const Regime& r, const Contender& c, bool check) {
  const std::string& src = b.sources.at(r.size);
  Prepare(b, r, src);
  bool ok = true;
  const auto t0 = std::chrono::steady_clock::now();
  for (int rep = 0; ok && rep < r.repetitions; ++rep) {
    b.left.push_back(b.work + "/dst." + std::to_string(rep));
    for (const Step& step : c.steps) {
      if (!(ok = RunStep(step, src, b.left.back()))) break;
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (ok && check) {
    bool equal = false;
    uint64_t where = 0;
    ok = pcopy::CompareFiles(src, b.left.back(), &equal, &where).ok() && equal;
  }
  return ok ? s / r.repetitions : 0;
}

// Returns the number of failed runs, or -1 when interrupted.
int RunRounds(Bench& b, std::vector<Regime>& regimes) {
  std::vector<std::pair<size_t, size_t>> runs;  // (regime, contender)
  for (size_t i = 0; i < regimes.size(); ++i) {
    if (!regimes[i].skipped.empty()) continue;
    for (size_t k = 0; k < regimes[i].contenders.size(); ++k) {
      regimes[i].contenders[k].seconds.assign(b.o.rounds, 0);
      runs.emplace_back(i, k);
    }
  }
  int failures = 0;
  std::mt19937 shuffler(20261130);  // fixed: a rerun times the runs in the same orders
  for (int round = 0; round < b.o.rounds; ++round) {
    std::shuffle(runs.begin(), runs.end(), shuffler);
    for (const auto& [i, k] : runs) {
      if (g_stop) return -1;
      Contender& c = regimes[i].contenders[k];
      const double s = TimeRun(b, regimes[i], c, round == 0);
      if (s <= 0) {
        fprintf(stderr, "pcopy-bench: %s: %s failed or its copy differs\n", regimes[i].name.c_str(),
                c.name.c_str());
        ++c.failures;
        ++failures;
        continue;
      }
      c.seconds[round] = s;
      printf("round %d  %-28s %-40s %9.4f s\n", round + 1, regimes[i].name.c_str(), c.name.c_str(),
             s);
      fflush(stdout);
    }
  }
  return failures;
}

std::string ConditionsLine(const ScoreboardOptions& o, const std::vector<Regime>& regimes) {
  char buf[640];
  snprintf(buf, sizeof buf,
           "%d shuffled interleaved rounds in %s; every ratio is another tool's time over default "
           "pcopy's in the same round (above 1.00x pcopy was faster). Source read just before each "
           "run (cold: page cache dropped instead); the previous copy removed just before the run "
           "(fresh memory: %.0f s before). Small file: %d copies per timed run, time per copy.%s",
           o.rounds, o.dir.c_str(), o.settle, regimes.back().repetitions,
           o.quick ? " --quick: 64 MiB stands in for 1 GiB and 4 GiB." : "");
  return buf;
}

int Run(Bench& b, std::vector<Regime>& regimes) {
  uint64_t seed = 42;
  for (const Regime& r : regimes) {
    std::string& path = b.sources[r.size];
    if (!path.empty()) continue;
    path = b.work + "/src." + std::to_string(r.size);
    if (pcopy::Status s = pcopy::WriteRandomFile(path, r.size, seed++); !s.ok()) {
      fprintf(stderr, "pcopy-bench: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const int failures = RunRounds(b, regimes);
  if (failures < 0) {
    fprintf(stderr, "pcopy-bench: interrupted; removing %s\n", b.work.c_str());
    return 130;
  }
  const bool written = WriteScoreboard(regimes, ConditionsLine(b.o, regimes), b.o.out);
  return failures == 0 && written ? 0 : 1;
}

}  // namespace

int RunScoreboard(const ScoreboardOptions& o) {
  std::vector<Regime> regimes = BuildRegimes(o, CanDropCaches());
  if (!EnoughSpace(o.dir, regimes)) return 2;
  std::string work = o.dir + "/pcopy-scoreboard.XXXXXX";
  if (!mkdtemp(work.data())) {
    perror(("pcopy-bench: mkdtemp " + work).c_str());
    return 1;
  }
  struct sigaction sa = {};
  sa.sa_handler = OnStop;  // no SA_RESTART: the run in progress ends, then the directory goes
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
  printf("pcopy-bench: scoreboard in %s, %d rounds\n", work.c_str(), o.rounds);
  fflush(stdout);
  Bench b{o, work, {}, {}};
  const int rc = Run(b, regimes);
  if (pcopy::Status s = pcopy::RemoveTree(pcopy::RealSysCalls(), AT_FDCWD, work, work); !s.ok()) {
    fprintf(stderr, "pcopy-bench: %s\n", s.ToString().c_str());
    return 1;
  }
  return rc;
}

}  // namespace lab
