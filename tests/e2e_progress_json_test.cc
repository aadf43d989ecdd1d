// --progress json, parsed by a real JSON parser (Python's): every line an object, the fields
// the README documents, a last line with the outcome; and the escaping of hostile names.
#include <sys/stat.h>

#include <sstream>

#include "app/progress_json.h"
#include "test_util.h"
#include "tree_test_util.h"

namespace pcopy::test {
namespace {

// Checks every line of the file argv[1] and prints "ok" or the first problem.
constexpr const char* kChecker = R"(
import json, sys
lines = open(sys.argv[1], encoding='utf-8').read().splitlines()
objs = [json.loads(l) for l in lines]
assert objs, 'no lines'
keys = {'type', 'elapsed', 'bytes_done', 'bytes_total', 'files_done', 'files_total', 'rate',
        'eta', 'errors', 'workers'}
for o in objs:
    assert keys <= set(o), sorted(keys - set(o))
    assert len(o['workers']) == int(sys.argv[2]), o['workers']
    for w in o['workers']:
        assert set(w) == {'bytes', 'file'}, w
        assert w['file'] is None or isinstance(w['file'], str), w
assert all(o['type'] == 'progress' for o in objs[:-1]), 'an end before the last line'
end = objs[-1]
assert end['type'] == 'end', end
print(end['outcome'], len(objs) - 1, end['bytes_done'], end['bytes_total'], end['files_done'],
      end['files_total'], end['errors'])
)";

TEST(E2eProgressJson, EveryLineIsJsonAndTheLastSaysTheOutcome) {
  TempDir t;
  const std::string src = t / "src";
  ASSERT_EQ(0, mkdir(src.c_str(), 0755));
  for (int i = 0; i < 6; ++i) MakeRandomFile(src + "/f" + std::to_string(i), 512 << 10, i);
  const ExitStatus run = RunWithOutputs(
      {PCOPY_BINARY, "-r", "-j", "2", "--progress", "json", "--bwlimit", "1M", src, t / "dst"},
      t / "out", t / "err");
  ASSERT_EQ(0, run.code) << ReadFile(t / "err");
  const RunResult check = RunCommand({"python3", "-c", kChecker, t / "err", "2"});
  ASSERT_EQ(0, check.exit_code) << check.err << ReadFile(t / "err");
  // Three seconds at 1 MB/s: at least two progress lines, then the end.
  int progress_lines = 0;
  char outcome[32] = {};
  unsigned long long done = 0, total = 0, files = 0, files_total = 0, errors = 0;
  ASSERT_EQ(7, sscanf(check.out.c_str(), "%31s %d %llu %llu %llu %llu %llu", outcome,
                      &progress_lines, &done, &total, &files, &files_total, &errors))
      << check.out;
  EXPECT_STREQ("copied", outcome);
  EXPECT_GE(progress_lines, 2);
  EXPECT_EQ(6ull * (512 << 10), done);
  EXPECT_EQ(done, total);
  EXPECT_EQ(6u, files);
  EXPECT_EQ(6u, files_total);
  EXPECT_EQ(0u, errors);
}

// The steps after the copy follow "end" as "phase" lines, in the order they run, each once (no
// second sync after --verify's), each step's last with all its bytes.
constexpr const char* kPhaseChecker = R"(
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8').read().splitlines()]
ends = [i for i, o in enumerate(objs) if o['type'] == 'end']
assert len(ends) == 1, ends
phases = objs[ends[0] + 1:]
assert all(o['type'] == 'phase' for o in phases), phases
assert all(set(o) == {'type', 'phase', 'elapsed', 'bytes_done', 'bytes_total'} for o in phases)
last = {}
order = []
for o in phases:
    assert o['bytes_done'] <= o['bytes_total'], o
    if not order or order[-1] != o['phase']:
        assert o['phase'] not in order, 'again: %s after %s' % (o['phase'], order)
        order.append(o['phase'])
    last[o['phase']] = o
print(' '.join('%s=%d/%d' % (p, last[p]['bytes_done'], last[p]['bytes_total']) for p in order))
)";

TEST(E2eProgressJson, StepsAfterTheCopyFollowTheEnd) {
  TempDir t;
  const uint64_t size = (3 << 20) + 5;
  MakeRandomFile(t / "src", size, 4);
  const std::string whole = std::to_string(size) + "/" + std::to_string(size);
  const struct {
    std::vector<std::string> options;
    std::string phases;
  } cases[] = {
      {{"--verify", "--fsync"}, "syncing=" + whole + " verifying=" + whole},
      {{"--print-digest"}, "digesting=" + whole},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {PCOPY_BINARY, "-j", "2", "--progress", "json"};
    argv.insert(argv.end(), c.options.begin(), c.options.end());
    argv.insert(argv.end(), {t / "src", t / "dst"});
    const ExitStatus run = RunWithOutputs(argv, t / "out", t / "err");
    ASSERT_EQ(0, run.code) << ReadFile(t / "err");
    EXPECT_TRUE(SameBytes(t / "src", t / "dst"));
    const RunResult check = RunCommand({"python3", "-c", kPhaseChecker, t / "err"});
    ASSERT_EQ(0, check.exit_code) << check.err << ReadFile(t / "err");
    EXPECT_EQ(check.out, c.phases + "\n") << ReadFile(t / "err");
  }
}

TEST(E2eProgressJson, AFailedCopyEndsWithItsOutcome) {
  TempDir t;
  MakeSampleTree(t / "src");
  ASSERT_EQ(0, mkdir((t / "dst").c_str(), 0755));
  ASSERT_EQ(0, mkdir((t / "dst/src").c_str(), 0755));
  WriteFile(t / "dst/src/a", "a file where SOURCE has a directory");
  const ExitStatus run =
      RunWithOutputs({PCOPY_BINARY, "-r", "-j", "3", "--progress", "json", t / "src", t / "dst"},
                     t / "out", t / "err");
  EXPECT_EQ(1, run.code);
  // The error lines are not JSON: the checker reads the JSON lines only.
  std::string json;
  std::istringstream err(ReadFile(t / "err"));
  for (std::string line; std::getline(err, line);) {
    if (!line.empty() && line[0] == '{') json += line + "\n";
  }
  WriteFile(t / "json", json);
  const RunResult check = RunCommand({"python3", "-c", kChecker, t / "json", "3"});
  ASSERT_EQ(0, check.exit_code) << check.err << json;
  EXPECT_EQ(0u, check.out.rfind("failed ", 0)) << check.out;
}

TEST(JsonString, NamesStayDistinctAndParseable) {
  EXPECT_EQ("\"a\\\"b\\\\c\"", JsonString("a\"b\\c"));
  EXPECT_EQ("\"new\\nline\\ttab\\u0001\"", JsonString("new\nline\ttab\x01"));
  EXPECT_EQ("\"caf\xc3\xa9\"", JsonString("caf\xc3\xa9"));  // valid UTF-8 as it is
  EXPECT_EQ("\"bad\\u00ff\\u00fe\"", JsonString("bad\xff\xfe"));
  EXPECT_EQ("\"cut\\u00e2\"", JsonString("cut\xe2"));  // a sequence cut short
}

// A resumed copy: bytes_done and bytes_total are the whole file's, bytes_resumed says how much an
// earlier run made durable, and the rate and ETA are this run's. Absent for other copies.
TEST(JsonProgressLine, AResumedCopyCountsItsDurableBytes) {
  ProgressSnapshot s;
  s.total = 1000;
  s.done = {300, 200};
  s.planned = {500, 500};
  s.current = {"a", ""};
  s.elapsed = 2;
  EXPECT_EQ(JsonProgress::Line(s, 250, nullptr).find("bytes_resumed"), std::string::npos);
  s.before = 3000;
  const std::string line = JsonProgress::Line(s, 250, nullptr);
  EXPECT_NE(line.find("\"bytes_done\":3500,\"bytes_total\":4000,\"bytes_resumed\":3000,"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("\"rate\":250,\"eta\":2.0,"), std::string::npos) << line;
}

}  // namespace
}  // namespace pcopy::test
