// bench_smoke_test.cc: `pcopy-bench --quick` runs and writes well-formed tables. A smoke test of
// the lab's plumbing only: nothing here looks at how fast anything was.
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
  const std::string cmd = std::string(PCOPY_BENCH_BINARY) + " --quick --size 8M --dir " + t.path() +
                          " --out " + out + " --pcopy " PCOPY_BINARY " > " + (t / "log") + " 2>&1";
  ASSERT_EQ(system(cmd.c_str()), 0) << ReadFile(t / "log");

  // 4 baselines + 4 strategies x jobs {1, 2}, each timed once, each with a positive throughput.
  const std::vector<std::string> csv = Lines(ReadFile(out + "/results.csv"));
  ASSERT_EQ(csv.size(), 1u + 4 + 8) << ReadFile(out + "/results.csv");
  EXPECT_EQ(csv[0].rfind("tool,strategy,jobs,chunk,method,runs,failures,median_gbps", 0), 0u);
  EXPECT_EQ(csv[1].rfind("\"cp\",", 0), 0u);
  for (size_t i = 1; i < csv.size(); ++i) {
    std::vector<std::string> fields;
    std::istringstream row(csv[i]);
    for (std::string f; std::getline(row, f, ',');) fields.push_back(f);
    ASSERT_EQ(fields.size(), 14u) << csv[i];
    EXPECT_EQ(fields[5], "1") << csv[i];  // runs
    EXPECT_EQ(fields[6], "0") << csv[i];  // failures
    EXPECT_GT(std::stod(fields[7]), 0.0) << csv[i];
    EXPECT_GT(std::stod(fields[13]), 0.0) << csv[i];  // same-round ratio to the Python exercise
  }
  EXPECT_EQ(csv[4].rfind("\"python 2-process\",", 0), 0u) << csv[4];
  EXPECT_EQ(csv[4].substr(csv[4].rfind(',')), ",1") << csv[4];  // Python against itself
  const std::string md = ReadFile(out + "/results.md");
  EXPECT_NE(md.find("| tool | median GB/s |"), std::string::npos) << md;
  EXPECT_NE(md.find("| ratio to python (median of same-round) |"), std::string::npos) << md;
  EXPECT_NE(md.find("removing the previous copy just before (reused)"), std::string::npos) << md;
  EXPECT_NE(md.find("| pcopy dynamic -j 2 --chunk-size 1M auto |"), std::string::npos) << md;
  const std::string json = ReadFile(out + "/results.json");
  size_t entries = 0;
  for (size_t at = json.find("{\"tool\": "); at != std::string::npos;
       at = json.find("{\"tool\": ", at + 1)) {
    ++entries;
  }
  EXPECT_EQ(entries, 12u) << json;
  EXPECT_NE(json.find("\"ceilings_gbps\""), std::string::npos);
  EXPECT_FALSE(Exists(t / "pcopy-bench.src"));  // the lab removes what it made
  EXPECT_FALSE(Exists(t / "pcopy-bench.dst"));
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
