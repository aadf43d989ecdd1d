// bench_smoke_test.cc: `pcopy-bench --quick`, `pcopy-bench --scoreboard --quick` and
// `bench/tree_scaling.sh` run and write well-formed tables. A smoke test of the benchmarks'
// plumbing only: nothing here looks at how fast anything was.
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "test_util.h"

namespace pcopy::test {
namespace {

#ifdef PCOPY_BENCH_BINARY

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(BenchSmoke, QuickLabWritesValidTables) {
  TempDir t;
  const std::string out = t / "out";
  const std::string cmd = std::string(PCOPY_BENCH_BINARY) +
                          " --quick --size 8M --buffer-sizes auto,64K --dir " + t.path() +
                          " --out " + out + " --pcopy " PCOPY_BINARY " > " + (t / "log") + " 2>&1";
  ASSERT_EQ(system(cmd.c_str()), 0) << ReadFile(t / "log");

  // 4 baselines + 4 strategies x jobs {1, 2} x buffer sizes {auto, 64K}, each timed once, each
  // with a positive throughput.
  const std::vector<std::string> csv = Lines(ReadFile(out + "/results.csv"));
  ASSERT_EQ(csv.size(), 1u + 4 + 16) << ReadFile(out + "/results.csv");
  EXPECT_EQ(csv[0].rfind("tool,strategy,jobs,chunk,method,buffer,runs,failures,median_gbps", 0),
            0u);
  EXPECT_EQ(csv[1].rfind("\"cp\",", 0), 0u);
  for (size_t i = 1; i < csv.size(); ++i) {
    std::vector<std::string> fields;
    std::istringstream row(csv[i]);
    for (std::string f; std::getline(row, f, ',');) fields.push_back(f);
    ASSERT_EQ(fields.size(), 15u) << csv[i];
    EXPECT_EQ(fields[6], "1") << csv[i];  // runs
    EXPECT_EQ(fields[7], "0") << csv[i];  // failures
    EXPECT_GT(std::stod(fields[8]), 0.0) << csv[i];
    EXPECT_GT(std::stod(fields[14]), 0.0) << csv[i];  // same-round ratio to the Python exercise
    if (i > 4) {
      EXPECT_TRUE(fields[5] == "auto" || fields[5] == "64K") << csv[i];
    }
  }
  EXPECT_EQ(csv[4].rfind("\"python 2-process\",", 0), 0u) << csv[4];
  EXPECT_EQ(csv[4].substr(csv[4].rfind(',')), ",1") << csv[4];  // Python against itself
  const std::string md = ReadFile(out + "/results.md");
  EXPECT_NE(md.find("| tool | median GB/s |"), std::string::npos) << md;
  EXPECT_NE(md.find("| ratio to python (median of same-round) |"), std::string::npos) << md;
  EXPECT_NE(md.find("removing the previous copy just before (reused)"), std::string::npos) << md;
  EXPECT_NE(md.find("| pcopy dynamic -j 2 --chunk-size 1M auto |"), std::string::npos) << md;
  EXPECT_NE(md.find("| pcopy dynamic -j 2 --chunk-size 1M auto --buffer-size 64K |"),
            std::string::npos)
      << md;
  const std::string json = ReadFile(out + "/results.json");
  size_t entries = 0;
  for (size_t at = json.find("{\"tool\": "); at != std::string::npos;
       at = json.find("{\"tool\": ", at + 1)) {
    ++entries;
  }
  EXPECT_EQ(entries, 20u) << json;
  EXPECT_NE(json.find("\"buffer\": \"64K\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"ceilings_gbps\""), std::string::npos);
  EXPECT_FALSE(Exists(t / "pcopy-bench.src"));  // the lab removes what it made
  EXPECT_FALSE(Exists(t / "pcopy-bench.dst"));
}

// The scoreboard's table: one row per regime, eight columns, the cold regime skipped exactly
// when the page cache cannot be dropped (not root), and nothing left in --dir but its output.
TEST(BenchSmoke, QuickScoreboardWritesOneTableAndCleansUp) {
  TempDir t;
  const std::string out = t / "out";
  const std::string cmd = std::string(PCOPY_BENCH_BINARY) + " --scoreboard --quick --dir " +
                          t.path() + " --out " + out + " --pcopy " PCOPY_BINARY " > " +
                          (t / "log") + " 2>&1";
  ASSERT_EQ(system(cmd.c_str()), 0) << ReadFile(t / "log");

  const std::vector<std::string> md = Lines(ReadFile(out + "/scoreboard.md"));
  ASSERT_GE(md.size(), 2u + 2 + 8) << ReadFile(out + "/scoreboard.md");
  EXPECT_EQ(md[2],
            "| regime | baseline | baseline median s | pcopy median s | baseline / pcopy (median "
            "of same-round) | min-max | pcopy -j 1 / pcopy | Python / pcopy |");
  const bool root = access("/proc/sys/vm/drop_caches", W_OK) == 0;
  for (size_t i = 4; i < 12; ++i) {
    EXPECT_EQ(std::count(md[i].begin(), md[i].end(), '|'), 9) << md[i];
    EXPECT_EQ(md[i].find("skipped") != std::string::npos, !root && i == 8) << md[i];
  }
  EXPECT_EQ(md[4].rfind("| hot 64 MiB | cp | ", 0), 0u) << md[4];
  EXPECT_EQ(md[5].rfind("| hot 1 GiB (as 64 MiB) | cp | ", 0), 0u) << md[5];
  EXPECT_EQ(md[5].find("| - |"), std::string::npos) << "-j 1 and Python timed: " << md[5];
  EXPECT_EQ(md[8].rfind("| cold source 4 GiB (as 64 MiB) | cp | ", 0), 0u) << md[8];
  EXPECT_EQ(md[9].rfind("| durable 1 GiB (as 64 MiB) | cp && sync | ", 0), 0u) << md[9];
  EXPECT_EQ(md[10].rfind("| verified 1 GiB (as 64 MiB) | cp && sync && ", 0), 0u) << md[10];
  EXPECT_EQ(md[11].rfind("| small file 4 KiB | cp | ", 0), 0u) << md[11];
  const std::vector<std::string> csv = Lines(ReadFile(out + "/scoreboard.csv"));
  ASSERT_EQ(csv.size(), 1u + 8);
  for (size_t i = 1; i < csv.size(); ++i) {
    std::vector<std::string> fields;
    std::istringstream row(csv[i]);
    for (std::string f; std::getline(row, f, ',');) fields.push_back(f);
    ASSERT_EQ(fields.size(), 13u) << csv[i];
    EXPECT_EQ(fields[4], "0") << "failures: " << csv[i];
  }
  EXPECT_EQ(ListDir(t.path()), (std::vector<std::string>{"log", "out"}));
}

TEST(BenchSmoke, TreeScalingTimesEveryToolAndChecksTheCopies) {
  TempDir t;
  const std::string out = t / "out";
  const std::string cmd = std::string(PCOPY_BENCH_DIR) +
                          "/tree_scaling.sh --scale 0.002 --rounds 2 --jobs '1 2' --settle 0 " +
                          "--dir " + (t / "work") + " --out " + out + " --pcopy " PCOPY_BINARY +
                          " --tree-gen " PCOPY_TREE_GEN_BINARY " > " + (t / "log") + " 2>&1";
  ASSERT_EQ(system(cmd.c_str()), 0) << ReadFile(t / "log");
  const std::vector<std::string> runs = Lines(ReadFile(out + "/runs.csv"));
  EXPECT_EQ(runs.size(), 1u + 2 * 5) << "2 rounds of cp -r, cp -a, pcopy -a, pcopy -r -j 1 and 2";
  const std::string log = ReadFile(t / "log");
  EXPECT_EQ(log.find("(wrong)"), std::string::npos) << log;
  const std::vector<std::string> md = Lines(ReadFile(out + "/results.md"));
  ASSERT_EQ(md.size(), 2u + 5) << ReadFile(out + "/results.md");
  EXPECT_EQ(md[0], "| tool | median s | vs cp -r (same round) | vs cp -a |");
  EXPECT_EQ(md[3].rfind("| cp -r | ", 0), 0u) << md[3];
  EXPECT_NE(md[3].find("| 1.00x |"), std::string::npos) << md[3];  // cp -r against itself
  EXPECT_EQ(md[6].rfind("| pcopy -r -j 2 | ", 0), 0u) << md[6];
  EXPECT_FALSE(Exists(t / "work/trash"));
  EXPECT_FALSE(Exists(t / "work/dst"));
}

TEST(BenchSmoke, UnknownMemoryModeIsAUsageError) {
  TempDir t;
  const std::string cmd = std::string(PCOPY_BENCH_BINARY) + " --quick --memory warm --dir " +
                          t.path() + " > " + (t / "log") + " 2>&1";
  const int status = system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_EQ(ReadFile(t / "log"),
            "pcopy-bench: invalid --memory 'warm' (reused, fresh or prefault)\n");
  EXPECT_FALSE(Exists(t / "pcopy-bench.src"));
}

#else

TEST(BenchSmoke, QuickLabWritesValidTables) {
  GTEST_SKIP() << "benchmarks are not built in this configuration (PCOPY_BUILD_BENCH=OFF)";
}

#endif

}  // namespace
}  // namespace pcopy::test
