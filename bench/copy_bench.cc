// copy_bench.cc: pcopy-bench, the first benchmark. Times cp, pcopy -j 1 and pcopy -j 2 on one
// generated file, interleaved round by round, and reports medians and each tool's ratio to cp
// measured in the same rounds (on a shared virtual machine single timings swing 2-3x, so only
// same-round ratios are worth quoting).
//
// Conditions, stated in the output: the source is hot (read through the page cache before every
// run); every run writes a new destination file (the previous one is removed first); dirty pages
// are flushed with syncfs() between runs, outside the timed region, so no run pays for the
// previous run's writeback; the previous destination is removed just before the run, so every
// tool writes into memory the guest has just freed. Each tool's first copy is compared byte for
// byte with the source.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "demo.h"
#include "random_fill.h"
#include "size_parse.h"
#include "unique_fd.h"

extern char** environ;

namespace {

struct Tool {
  std::string name;
  std::vector<std::string> argv;  // the destination path is appended
  std::vector<double> seconds;
  std::vector<double> ratio_to_cp;  // this tool's speed / cp's speed, same round
};

int RunCommand(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool ReadThrough(const std::string& path) {
  pcopy::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  std::vector<char> buf(1 << 20);
  while (read(fd.get(), buf.data(), buf.size()) > 0) {
  }
  return true;
}

void SyncFs(const std::string& dir) {
  pcopy::UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.valid()) syncfs(fd.get());
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  std::string size_text, dir, pcopy_path;
  int rounds = 5;
  po::options_description desc(
      "Usage: pcopy-bench [OPTIONS]\nTimes cp, pcopy -j 1 and pcopy -j 2 on a hot cache.\nOptions");
  desc.add_options()("help,h", "show this help")("size", po::value(&size_text)->default_value("4G"),
                                                 "size of the generated source file")(
      "rounds", po::value(&rounds)->default_value(5), "interleaved rounds (at least 1)")(
      "dir", po::value(&dir)->default_value("."), "where the files are made (removed afterwards)")(
      "pcopy", po::value(&pcopy_path)->default_value(PCOPY_BINARY), "the pcopy binary to time");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    fprintf(stderr, "pcopy-bench: %s\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    printf("%s", (std::ostringstream() << desc).str().c_str());
    return 0;
  }
  const std::optional<uint64_t> size = pcopy::ParseSize(size_text);
  if (!size || *size == 0 || rounds < 1) {
    fprintf(stderr, "pcopy-bench: invalid --size or --rounds\n");
    return 2;
  }

  const std::string src = dir + "/pcopy-bench.src";
  const std::string dst = dir + "/pcopy-bench.dst";
  printf("pcopy-bench: generating %s in %s\n", pcopy::FormatBytes(*size).c_str(), dir.c_str());
  fflush(stdout);
  if (pcopy::Status s = pcopy::WriteRandomFile(src, *size, 42); !s.ok()) {
    fprintf(stderr, "pcopy-bench: %s\n", s.ToString().c_str());
    unlink(src.c_str());
    return 1;
  }
  std::vector<Tool> tools = {
      // cp first: the ratios are against tools[0]
      {"cp", {"cp", src}, {}, {}},
      {"pcopy -j 1", {pcopy_path, "-q", "-j", "1", src}, {}, {}},
      {"pcopy -j 2", {pcopy_path, "-q", "-j", "2", src}, {}, {}},
  };
  printf(
      "conditions: source hot in the page cache; destination a new file each run; "
      "syncfs between runs (untimed); no fsync in the timed copy\n");
  int failures = 0;
  for (int round = 0; round < rounds; ++round) {
    // The order rotates each round so that no tool always runs first (right after the previous
    // round's destination was freed) or last; ratios pair each tool with cp's run of the round.
    std::vector<double> round_seconds(tools.size(), 0);
    for (size_t k = 0; k < tools.size(); ++k) {
      const size_t t = (k + static_cast<size_t>(round)) % tools.size();
      Tool& tool = tools[t];
      // Flush the previous copy, warm the source, and only then free the previous destination:
      // the pages it frees are reused by this run at once. Freed guest memory left idle for a few
      // seconds is reclaimed by the host and costs a fault per page when reused, which would make
      // the timing depend on how long the flush took (README "Benchmarks").
      SyncFs(dir);
      ReadThrough(src);
      unlink(dst.c_str());
      std::vector<std::string> cmd = tool.argv;
      cmd.push_back(dst);
      const auto t0 = std::chrono::steady_clock::now();
      const int rc = RunCommand(cmd);
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      bool ok = rc == 0;
      if (ok && round == 0) {
        bool equal = false;
        uint64_t where = 0;
        ok = pcopy::CompareFiles(src, dst, &equal, &where).ok() && equal;
      }
      if (!ok) {
        fprintf(stderr, "pcopy-bench: %s failed (exit %d) or its copy differs\n", tool.name.c_str(),
                rc);
        ++failures;
        continue;
      }
      tool.seconds.push_back(secs);
      round_seconds[t] = secs;
      printf("round %d  %-11s %7.3f s  %6.2f GB/s\n", round + 1, tool.name.c_str(), secs,
             static_cast<double>(*size) / secs / 1e9);
      fflush(stdout);
    }
    for (size_t t = 0; t < tools.size(); ++t) {
      if (round_seconds[0] > 0 && round_seconds[t] > 0) {
        tools[t].ratio_to_cp.push_back(round_seconds[0] / round_seconds[t]);
      }
    }
  }
  unlink(dst.c_str());
  unlink(src.c_str());

  printf(
      "\n| tool | median GB/s | min GB/s | max GB/s | median ratio to cp (same round) | "
      "best-run ratio to cp |\n");
  printf("|---|---|---|---|---|---|\n");
  const double cp_best = tools[0].seconds.empty()
                             ? 0
                             : *std::min_element(tools[0].seconds.begin(), tools[0].seconds.end());
  for (const Tool& tool : tools) {
    if (tool.seconds.empty()) continue;
    const auto [lo, hi] = std::minmax_element(tool.seconds.begin(), tool.seconds.end());
    const double gb = static_cast<double>(*size) / 1e9;
    printf("| %s | %.2f | %.2f | %.2f | %.2fx | %.2fx |\n", tool.name.c_str(),
           gb / Median(tool.seconds), gb / *hi, gb / *lo, Median(tool.ratio_to_cp), cp_best / *lo);
  }
  return failures == 0 ? 0 : 1;
}
