// lab_main.cc: pcopy-bench's entry point (`--scoreboard` hands over to scoreboard.h): builds
// the matrix (strategy x jobs x chunk size x method, plus the baselines a user compares against:
// cp, dd bs=1M, cat, and the classic Python two-process copy), generates the source, and times
// every tool once per round, in an order shuffled each round. Only same-round ratios are worth
// quoting on a shared machine.
//
// Per run: the previous copy is flushed (syncfs, untimed), the source is warmed (hot) or the page
// cache dropped (cold, root only), then the previous destination (SIZE bytes, as an untimed
// warm-up copy makes it for the first run) is removed, so every tool writes into memory freed the
// same way: just before the run (reused), --settle seconds before (fresh), or after SIZE of
// anonymous memory was touched and freed (prefault); README "Benchmarks".
#include <unistd.h>

#include <algorithm>
#include <boost/algorithm/string.hpp>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>

#include "app/demo.h"
#include "app/random_file.h"
#include "base/size_parse.h"
#include "lab.h"
#include "scoreboard.h"

namespace {

using lab::DropCaches;
using lab::Prefault;
using lab::ReadThrough;
using lab::RunCommand;
using lab::SyncFs;

std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> out;
  boost::split(out, list, boost::is_any_of(","));
  out.erase(std::remove(out.begin(), out.end(), ""), out.end());
  return out;
}

struct Args {
  std::string size = "4G", dir = ".", out = "bench/results", pcopy = PCOPY_BINARY;
  std::string strategies = "contiguous,interleaved,dynamic,guided", jobs = "1,2,4,8";
  std::string chunks = "1M", methods = "auto", buffers = "auto", python = "python3";
  int rounds = 5;
  std::string memory = "reused";
  bool cold = false, fsync = false, quick = false, no_baselines = false, scoreboard = false;
  double slow_worker = 1, settle = 5;
};

lab::Tool Baseline(const std::string& name, std::vector<std::string> argv) {
  lab::Tool t;
  t.name = name;
  t.argv = std::move(argv);
  return t;
}

// One pcopy configuration; buffer "auto" passes no --buffer-size (pcopy's own choice, which
// --method auto tunes).
lab::Tool PcopyTool(const Args& a, const std::string& strategy, const std::string& jobs,
                    const std::string& chunk, const std::string& method,
                    const std::string& buffer) {
  lab::Tool t;
  t.name = "pcopy " + strategy + " -j " + jobs + " --chunk-size " + chunk + " " + method;
  t.argv = {a.pcopy, "-q",           "--strategy", strategy,   "-j",
            jobs,    "--chunk-size", chunk,        "--method", method};
  if (buffer != "auto") {
    t.name += " --buffer-size " + buffer;
    t.argv.insert(t.argv.end(), {"--buffer-size", buffer});
  }
  if (a.fsync) t.argv.push_back("--fsync");
  if (a.slow_worker > 1) {
    std::ostringstream f;
    f << a.slow_worker;
    t.argv.insert(t.argv.end(), {"--slow-worker", f.str()});
  }
  t.is_pcopy = true;
  t.strategy = strategy;
  t.jobs = static_cast<unsigned>(std::stoul(jobs));
  t.chunk = chunk;
  t.method = method;
  t.buffer = buffer;
  return t;
}

std::vector<lab::Tool> BuildTools(const Args& a) {
  std::vector<lab::Tool> tools;  // cp first: every ratio is against tools[0]
  tools.push_back(Baseline("cp", {"cp"}));
  if (!a.no_baselines) {
    tools.push_back(Baseline("dd bs=1M", {"dd-wrapper"}));
    tools.push_back(Baseline("cat", {"cat-wrapper"}));
    tools.push_back(Baseline(lab::kPythonTool, {a.python, BENCH_DIR "/classic_two_process.py"}));
  }
  for (const std::string& strategy : Split(a.strategies)) {
    for (const std::string& jobs : Split(a.jobs)) {
      for (const std::string& chunk : Split(a.chunks)) {
        for (const std::string& method : Split(a.methods)) {
          for (const std::string& buffer : Split(a.buffers)) {
            tools.push_back(PcopyTool(a, strategy, jobs, chunk, method, buffer));
          }
        }
      }
    }
  }
  return tools;
}

// dd and cat write through the shell-free forms: dd if= of=, and cat SOURCE > DEST.
int RunTool(const lab::Tool& t, const std::string& src, const std::string& dst) {
  if (t.argv[0] == "dd-wrapper") {
    return RunCommand({"dd", "if=" + src, "of=" + dst, "bs=1M", "status=none"}, "");
  }
  if (t.argv[0] == "cat-wrapper") return RunCommand({"cat", src}, dst);
  std::vector<std::string> cmd = t.argv;
  cmd.push_back(src);
  cmd.push_back(dst);
  return RunCommand(cmd, "");
}

int RunScoreboard(const Args& a, const boost::program_options::variables_map& vm) {
  lab::ScoreboardOptions o;
  o.dir = a.dir;
  o.out = a.out;
  o.pcopy = a.pcopy;
  o.python = a.python;
  o.quick = a.quick;
  if (vm.count("rounds")) o.rounds = a.rounds;
  if (vm.count("settle")) o.settle = a.settle;
  if (a.quick) {
    if (!vm.count("rounds")) o.rounds = 1;
    if (!vm.count("settle")) o.settle = 0;
  }
  if (o.rounds < 1 || o.settle < 0) {
    fprintf(stderr, "pcopy-bench: invalid --rounds or --settle\n");
    return 2;
  }
  return lab::RunScoreboard(o);
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  Args a;
  po::options_description d("Usage: pcopy-bench [OPTIONS]\nThe pcopy benchmark lab.\nOptions");
  d.add_options()("help,h", "show this help")("size", po::value(&a.size),
                                              "size of the generated source (default 4G)")(
      "rounds", po::value(&a.rounds), "interleaved rounds (default 5)")(
      "dir", po::value(&a.dir), "where the files are made and removed (default .)")(
      "out", po::value(&a.out), "where results.{md,csv,json} and throughput.png go")(
      "strategies", po::value(&a.strategies), "comma-separated (default: all four)")(
      "jobs", po::value(&a.jobs), "comma-separated (default 1,2,4,8)")(
      "chunk-sizes", po::value(&a.chunks), "comma-separated (default 1M)")(
      "methods", po::value(&a.methods), "comma-separated (default auto)")(
      "buffer-sizes", po::value(&a.buffers),
      "comma-separated --buffer-size values; auto passes none (default auto)")(
      "slow-worker", po::value(&a.slow_worker), "make worker 0 FACTOR times slower")(
      "cold", po::bool_switch(&a.cold), "drop the page cache before each run (root)")(
      "fsync", po::bool_switch(&a.fsync), "pcopy runs with --fsync")(
      "memory", po::value(&a.memory),
      "reused (default): the previous copy is removed just before each run; fresh: removed "
      "--settle seconds before; prefault: SIZE of memory touched and freed just before")(
      "settle", po::value(&a.settle), "seconds between removal and run for --memory fresh (5)")(
      "no-baselines", po::bool_switch(&a.no_baselines), "only cp and pcopy")(
      "python", po::value(&a.python), "the Python for the classic exercise (default python3)")(
      "pcopy", po::value(&a.pcopy), "the pcopy binary")(
      "quick", po::bool_switch(&a.quick), "a small matrix on 64 MiB, 1 round: under a minute")(
      "scoreboard", po::bool_switch(&a.scoreboard),
      "default pcopy against its baselines in every regime (7 rounds; takes --rounds, --dir, "
      "--out, --pcopy, --python, --settle, --quick)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, d), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    fprintf(stderr, "pcopy-bench: %s\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::ostringstream text;
    text << d;
    printf("%s", text.str().c_str());
    return 0;
  }
  if (a.scoreboard) return RunScoreboard(a, vm);
  if (a.quick) {
    if (!vm.count("size")) a.size = "64M";
    if (!vm.count("rounds")) a.rounds = 1;
    if (!vm.count("jobs")) a.jobs = "1,2";
  }
  const std::optional<uint64_t> size = pcopy::ParseSize(a.size);
  if (!size || *size == 0 || a.rounds < 1 || a.slow_worker < 1 || a.settle < 0) {
    fprintf(stderr, "pcopy-bench: invalid --size, --rounds, --slow-worker or --settle\n");
    return 2;
  }
  if (a.memory != "reused" && a.memory != "fresh" && a.memory != "prefault") {
    fprintf(stderr, "pcopy-bench: invalid --memory '%s' (reused, fresh or prefault)\n",
            a.memory.c_str());
    return 2;
  }
  if (a.cold && !DropCaches()) {
    fprintf(stderr, "pcopy-bench: --cold needs root (cannot write /proc/sys/vm/drop_caches)\n");
    return 2;
  }
  lab::Conditions cond{*size,         a.rounds, a.cold,
                       a.fsync,       a.memory, a.memory == "fresh" ? a.settle : 0,
                       a.slow_worker, a.dir};
  std::vector<lab::Tool> tools = BuildTools(a);
  size_t python = 0;
  while (python < tools.size() && tools[python].name != lab::kPythonTool) ++python;
  const std::string src = a.dir + "/pcopy-bench.src", dst = a.dir + "/pcopy-bench.dst";
  printf("pcopy-bench: generating %s in %s; %zu tools x %d rounds\n",
         pcopy::FormatBytes(*size).c_str(), a.dir.c_str(), tools.size(), a.rounds);
  fflush(stdout);
  if (pcopy::Status s = pcopy::WriteRandomFile(src, *size, 42); !s.ok()) {
    fprintf(stderr, "pcopy-bench: %s\n", s.ToString().c_str());
    unlink(src.c_str());
    return 1;
  }
  const lab::Ceilings ceilings = lab::MeasureCeilings(a.dir, src, *size);
  RunCommand({"cp", src, dst}, "");  // warm-up: the first run also replaces a SIZE-byte copy
  int failures = 0;
  std::mt19937 shuffler(20261127);  // fixed: a rerun times the tools in the same orders
  for (int round = 0; round < a.rounds; ++round) {
    std::vector<double> secs(tools.size(), 0);
    // A new order every round: what a run leaves in memory changes how fast the next run gets
    // memory, so no tool may always follow the same one (a rotation would keep the pairs).
    std::vector<size_t> order(tools.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::shuffle(order.begin(), order.end(), shuffler);
    for (const size_t i : order) {
      lab::Tool& tool = tools[i];
      SyncFs(a.dir);
      if (a.cold) {
        DropCaches();
      } else {
        ReadThrough(src);
      }
      unlink(dst.c_str());
      if (a.memory == "fresh") {
        std::this_thread::sleep_for(std::chrono::duration<double>(a.settle));
      } else if (a.memory == "prefault") {
        Prefault(*size);
      }
      const auto t0 = std::chrono::steady_clock::now();
      const int rc = RunTool(tool, src, dst);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      bool ok = rc == 0;
      if (ok && round == 0) {  // each tool's first copy is checked byte for byte
        bool equal = false;
        uint64_t where = 0;
        ok = pcopy::CompareFiles(src, dst, &equal, &where).ok() && equal;
      }
      if (!ok) {
        fprintf(stderr, "pcopy-bench: %s failed (exit %d) or its copy differs\n", tool.name.c_str(),
                rc);
        ++tool.failures;
        ++failures;
        continue;
      }
      tool.seconds.push_back(s);
      secs[i] = s;
      printf("round %d  %-48s %7.3f s  %6.2f GB/s\n", round + 1, tool.name.c_str(), s,
             static_cast<double>(*size) / s / 1e9);
      fflush(stdout);
    }
    for (size_t i = 0; i < tools.size(); ++i) {
      if (secs[i] <= 0) continue;
      if (secs[0] > 0) tools[i].ratio_to_cp.push_back(secs[0] / secs[i]);
      if (python < tools.size() && secs[python] > 0) {
        tools[i].ratio_to_python.push_back(secs[python] / secs[i]);
      }
    }
  }
  unlink(dst.c_str());
  unlink(src.c_str());
  const bool written = lab::Report(tools, ceilings, cond, a.out);
  return failures == 0 && written ? 0 : 1;
}
