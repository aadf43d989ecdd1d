#include "app/options.h"

#include <xxhash.h>

#include <boost/version.hpp>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy {
namespace {

// text contains fragment, with both shown on failure.
::testing::AssertionResult Contains(const std::string& text, const std::string& fragment) {
  if (text.find(fragment) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << fragment << "'";
}

struct Parsed {
  Status status;
  CommandLine cl;
};

// argv[0] is always "pcopy"; args are the rest.
Parsed Parse(std::span<const char* const> args) {
  std::vector<const char*> argv = {"pcopy"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(nullptr);
  Parsed p;
  p.status = ParseCommandLine(static_cast<int>(argv.size() - 1), argv.data(), &p.cl);
  return p;
}
Parsed Parse(std::initializer_list<const char*> args) {
  return Parse(std::span<const char* const>(args.begin(), args.size()));
}

// A rejection: not ok, and one line of text.
void ExpectRejected(std::initializer_list<const char*> args, const std::string& fragment = "") {
  std::string joined;
  for (const char* a : args) joined += std::string(" ") + a;
  const Parsed p = Parse(args);
  EXPECT_FALSE(p.status.ok()) << "accepted:" << joined;
  const std::string text = p.status.ToString();
  EXPECT_FALSE(text.empty()) << joined;
  EXPECT_EQ(text.find('\n'), std::string::npos) << joined << " -> " << text;
  if (!fragment.empty()) {
    EXPECT_TRUE(Contains(text, fragment)) << joined;
  }
}

TEST(OptionsTest, Defaults) {
  const Parsed p = Parse({"a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.action, Action::kCopy);
  const Options& o = p.cl.options;
  EXPECT_EQ(o.source, "a");
  EXPECT_EQ(o.dest, "b");
  EXPECT_EQ(o.jobs, OnlineCpus());
  EXPECT_GE(o.jobs, 1u);
  EXPECT_FALSE(o.jobs_given);  // a small copy then needs no worker (app/in_process.h)
  EXPECT_EQ(o.chunk_size, 1u << 20);
  EXPECT_EQ(o.buffer_size, 32u << 10);
  EXPECT_EQ(o.method, Method::kAuto);
  EXPECT_EQ(o.strategy, Strategy::kDynamic);
  EXPECT_EQ(o.progress, ProgressMode::kAuto);
  EXPECT_FALSE(o.no_clobber);
  EXPECT_FALSE(o.fsync);
  EXPECT_FALSE(o.verbose);
  EXPECT_FALSE(o.quiet);
  EXPECT_EQ(o.bwlimit, 0u);
}

TEST(OptionsTest, OnlineCpusIsInRange) {
  EXPECT_GE(OnlineCpus(), 1u);
  EXPECT_LE(OnlineCpus(), kMaxJobs);
}

TEST(OptionsTest, JobsShortAndLong) {
  Parsed p = Parse({"-j", "4", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.jobs, 4u);
  EXPECT_TRUE(p.cl.options.jobs_given);
  p = Parse({"--jobs=8", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.jobs, 8u);
  p = Parse({"--jobs", "1", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.jobs, 1u);
  p = Parse({"-j16", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.jobs, 16u);
  p = Parse({"-j", "1024", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.jobs, 1024u);
}

TEST(OptionsTest, OptionsAfterOperands) {
  const Parsed p = Parse({"a", "b", "-j", "3"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.jobs, 3u);
  EXPECT_EQ(p.cl.options.source, "a");
  EXPECT_EQ(p.cl.options.dest, "b");
}

TEST(OptionsTest, BadJobsRejected) {
  ExpectRejected({"-j0", "a", "b"}, "jobs");
  ExpectRejected({"-j", "0", "a", "b"}, "jobs");
  ExpectRejected({"-j", "-1", "a", "b"});
  ExpectRejected({"--jobs=-1", "a", "b"}, "jobs");
  ExpectRejected({"-j", "abc", "a", "b"}, "jobs");
  ExpectRejected({"-j", "1025", "a", "b"}, "jobs");
  ExpectRejected({"-j", "4K", "a", "b"}, "jobs");
  ExpectRejected({"-j", "", "a", "b"}, "jobs");
  ExpectRejected({"-j", "99999999999999999999999", "a", "b"}, "jobs");
  ExpectRejected({"a", "b", "-j"});
}

TEST(OptionsTest, ChunkSize) {
  Parsed p = Parse({"--chunk-size", "64K", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.chunk_size, 65536u);
  p = Parse({"--chunk-size=1", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.chunk_size, 1u);
  ExpectRejected({"--chunk-size", "0", "a", "b"}, "chunk size");
  ExpectRejected({"--chunk-size", "1X", "a", "b"}, "chunk size");
  ExpectRejected({"--chunk-size", "-4K", "a", "b"});
}

TEST(OptionsTest, BufferSize) {
  Parsed p = Parse({"--buffer-size", "1M", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.buffer_size, 1u << 20);
  p = Parse({"--buffer-size=4096", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.buffer_size, 4096u);
  ExpectRejected({"--buffer-size", "0", "a", "b"}, "buffer size");
  ExpectRejected({"--buffer-size", "lots", "a", "b"}, "buffer size");
  ExpectRejected({"--buffer-size", "2G", "a", "b"}, "buffer size");
}

// O_DIRECT requests are synchronous, so direct defaults to 1 MiB; a size the user gives is kept,
// whatever the method and in either order.
TEST(OptionsTest, BufferSizeDefaultFollowsTheMethod) {
  const std::pair<std::vector<const char*>, uint64_t> cases[] = {
      {{"--method", "direct", "a", "b"}, 1u << 20},
      {{"--method", "pread", "a", "b"}, 32u << 10},
      {{"--method", "mmap", "a", "b"}, 32u << 10},
      {{"--method", "direct", "--buffer-size", "32K", "a", "b"}, 32u << 10},
      {{"--buffer-size", "128K", "--method", "direct", "a", "b"}, 128u << 10},
      {{"--method", "direct", "--buffer-size", "1M", "a", "b"}, 1u << 20}};
  for (const auto& [args, expected] : cases) {
    const Parsed p = Parse(args);
    ASSERT_OK(p.status);
    EXPECT_EQ(p.cl.options.buffer_size, expected) << args[0] << ' ' << args[1] << ' ' << args[2];
  }
}

TEST(OptionsTest, Method) {
  Parsed p = Parse({"--method", "auto", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.method, Method::kAuto);
  p = Parse({"--method", "copy_file_range", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.method, Method::kCopyFileRange);
  p = Parse({"--method", "copy_file_range+pread", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.method, Method::kCopyFileRangeOrPread);
  p = Parse({"--method=pread", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.method, Method::kPread);
  p = Parse({"--method", "sendfile", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.method, Method::kSendfile);
  p = Parse({"--method", "mmap", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.method, Method::kMmap);
  p = Parse({"--method", "direct", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.method, Method::kDirect);
  ExpectRejected({"--method", "splice", "a", "b"}, "method");
  ExpectRejected({"--method", "", "a", "b"});
  ExpectRejected({"--method", "PREAD", "a", "b"}, "method");
}

TEST(OptionsTest, MethodAndStrategyNames) {
  EXPECT_STREQ(MethodName(Method::kAuto), "auto");
  EXPECT_STREQ(MethodName(Method::kCopyFileRange), "copy_file_range");
  EXPECT_STREQ(MethodName(Method::kCopyFileRangeOrPread), "copy_file_range+pread");
  EXPECT_STREQ(MethodName(Method::kPread), "pread");
  EXPECT_STREQ(StrategyName(Strategy::kContiguous), "contiguous");
}

TEST(OptionsTest, Progress) {
  const std::pair<const char*, ProgressMode> cases[] = {{"auto", ProgressMode::kAuto},
                                                        {"bar", ProgressMode::kBar},
                                                        {"plain", ProgressMode::kPlain},
                                                        {"none", ProgressMode::kNone}};
  for (const auto& [word, mode] : cases) {
    const std::string arg = std::string("--progress=") + word;
    const Parsed p = Parse({arg.c_str(), "a", "b"});
    ASSERT_OK(p.status);
    EXPECT_EQ(p.cl.options.progress, mode) << word;
  }
  ExpectRejected({"--progress", "fancy", "a", "b"}, "progress");
}

TEST(OptionsTest, Flags) {
  Parsed p = Parse({"-n", "--fsync", "-v", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_TRUE(p.cl.options.no_clobber);
  EXPECT_TRUE(p.cl.options.fsync);
  EXPECT_TRUE(p.cl.options.verbose);
  EXPECT_FALSE(p.cl.options.quiet);
  p = Parse({"--no-clobber", "-q", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_TRUE(p.cl.options.no_clobber);
  EXPECT_FALSE(p.cl.options.fsync);
  EXPECT_TRUE(p.cl.options.quiet);
  EXPECT_FALSE(p.cl.options.verbose);
  p = Parse({"--verbose", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_TRUE(p.cl.options.verbose);
}

TEST(OptionsTest, VerboseWithQuietRejected) {
  ExpectRejected({"-v", "-q", "a", "b"}, "--verbose and --quiet");
  ExpectRejected({"--quiet", "--verbose", "a", "b"});
}

TEST(OptionsTest, UnknownOptionRejected) {
  ExpectRejected({"--bogus", "a", "b"}, "bogus");
  ExpectRejected({"-Z", "a", "b"});
  ExpectRejected({"--jobz=4", "a", "b"}, "did you mean '--jobs'?");
}

TEST(OptionsTest, FlagWithValueRejected) { ExpectRejected({"--fsync=yes", "a", "b"}); }

TEST(OptionsTest, MissingOperands) {
  ExpectRejected({"-j", "2"}, "missing file operand");
  // An option without its value, in GNU getopt's words, by its long name.
  ExpectRejected({"a", "b", "-j"}, "option '--jobs' requires an argument");
  ExpectRejected({"a", "b", "--jobs"}, "option '--jobs' requires an argument");
  ExpectRejected({"a", "b", "--strategy"}, "option '--strategy' requires an argument");
  ExpectRejected({"a"}, "missing destination file operand after 'a'");
  ExpectRejected({"-v", "a"}, "missing destination file operand after 'a'");
}

TEST(OptionsTest, MissingOperandQuotesHostileName) {
  const Parsed p = Parse({"a\nb"});
  EXPECT_FALSE(p.status.ok());
  EXPECT_TRUE(Contains(p.status.ToString(), "after 'a\\nb'"));
}

TEST(OptionsTest, ExtraOperandRejectedWithNoTargetDirectory) {
  ExpectRejected({"-T", "a", "b", "c"}, "extra operand 'c'");
}

TEST(OptionsTest, SeveralSourcesAndATargetDirectory) {
  Parsed p = Parse({"a", "b", "c", "dir"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ((std::vector<std::string>{"a", "b", "c"}), p.cl.options.sources);
  EXPECT_EQ("dir", p.cl.options.dest);
  EXPECT_FALSE(p.cl.options.target_is_directory);
  p = Parse({"-t", "dir", "a", "b"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ((std::vector<std::string>{"a", "b"}), p.cl.options.sources);
  EXPECT_EQ("dir", p.cl.options.dest);
  EXPECT_TRUE(p.cl.options.target_is_directory);
  ExpectRejected({"-t", "dir"}, "missing file operand");
}

TEST(OptionsTest, ArchiveAndPreserveAsCp) {
  Parsed p = Parse({"-a", "x", "y"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  const Options& a = p.cl.options;
  EXPECT_TRUE(a.recursive);
  EXPECT_EQ(Dereference::kNever, a.dereference);
  EXPECT_TRUE(a.preserve.mode && a.preserve.ownership && a.preserve.timestamps &&
              a.preserve.links && a.preserve.xattr);
  p = Parse({"-rp", "--no-preserve=mode", "x", "y"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_TRUE(p.cl.options.recursive);
  EXPECT_FALSE(p.cl.options.preserve.mode);
  EXPECT_TRUE(p.cl.options.preserve.timestamps && p.cl.options.preserve.ownership);
  EXPECT_FALSE(p.cl.options.preserve.links);
  p = Parse({"-R", "--preserve", "x", "y"});  // no =LIST: mode,ownership,timestamps
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_TRUE(p.cl.options.recursive && p.cl.options.preserve.mode);
  p = Parse({"-rHxu", "--fail-fast", "x", "y"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(Dereference::kCommandLine, p.cl.options.dereference);
  EXPECT_TRUE(p.cl.options.one_file_system && p.cl.options.update && p.cl.options.fail_fast);
  ExpectRejected({"--preserve=mode,bogus", "x", "y"}, "invalid argument 'bogus' for '--preserve'");
}

TEST(OptionsTest, DashDashEndsOptions) {
  const Parsed p = Parse({"--", "-a", "-b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.source, "-a");
  EXPECT_EQ(p.cl.options.dest, "-b");
}

TEST(OptionsTest, NoArgumentsIsDemo) {
  const Parsed p = Parse({});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.action, Action::kDemo);
  EXPECT_EQ(p.cl.options.demo_size, kDefaultDemoSize);
}

TEST(OptionsTest, DemoOption) {
  Parsed p = Parse({"--demo"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.action, Action::kDemo);
  p = Parse({"--demo", "--demo-size", "64M", "-j", "2"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.action, Action::kDemo);
  EXPECT_EQ(p.cl.options.demo_size, 64u << 20);
  EXPECT_EQ(p.cl.options.jobs, 2u);
  ExpectRejected({"--demo", "--demo-size", "0"}, "demo size");
}

TEST(OptionsTest, DemoWithOperandsRejected) {
  ExpectRejected({"--demo", "a", "b"}, "--demo");
  ExpectRejected({"--demo", "a"});
}

// --demo-size is only for the demo: alone it asks for it; beside a copy's operands it is refused
// rather than silently ignored.
TEST(OptionsTest, DemoSizeAloneIsTheDemo) {
  const Parsed p = Parse({"--demo-size", "64M"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.action, Action::kDemo);
  EXPECT_EQ(p.cl.options.demo_size, 64u << 20);
  ExpectRejected({"--demo-size", "64M", "a", "b"}, "--demo-size goes with --demo");
}

TEST(OptionsTest, Help) {
  for (const char* flag : {"--help", "-h"}) {
    const Parsed p = Parse({flag});
    ASSERT_OK(p.status);
    EXPECT_EQ(p.cl.action, Action::kHelp) << flag;
    EXPECT_TRUE(Contains(p.cl.text, "Usage: pcopy")) << flag;
    EXPECT_TRUE(Contains(p.cl.text, "--jobs")) << flag;
    EXPECT_TRUE(Contains(p.cl.text, "--method")) << flag;
    EXPECT_EQ(p.cl.text.back(), '\n');
  }
}

// Every line of text ends with a newline and fits in 80 columns.
void ExpectLinesWithin80Columns(const std::string& text) {
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = text.find('\n', at);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - at, 80u) << text.substr(at, end - at);
    at = end + 1;
  }
}

// GNU's layout: every line within 80 columns, options listed as "-j, --jobs=N" under captions,
// each option the parser takes listed once, with its value's name and default.
TEST(OptionsTest, HelpIsInGnuStyleWithin80Columns) {
  const Parsed p = Parse({"--help"});
  ASSERT_OK(p.status);
  const std::string& text = p.cl.text;
  ExpectLinesWithin80Columns(text);
  for (const char* line :
       {"\n  -j, --jobs=N                worker processes (default: online CPUs)\n",
        "\n      --strategy=NAME         how the work is split: contiguous, interleaved,\n"
        "                              dynamic or guided (default: dynamic)\n",
        "\n  -R                          same as -r\n", "\nCopying:\n", "\nSafety:\n",
        "\n  -V, --version               show the version and exit\n", "\nExamples:\n"}) {
    EXPECT_TRUE(Contains(text, line)) << line;
  }
  for (const char* name :
       {"--chunk-size=SIZE", "--bwlimit=RATE", "--preserve[=LIST]", "--fsync", "--verify",
        "--resume-by-content", "--stall-timeout=SECONDS", "--progress=MODE", "--checksum[=ALGO]",
        "--check[=ALGO]", "--compare", "--demo-size=SIZE", "-t, --target-directory=DIRECTORY",
        "-a, --archive", "-H "}) {
    EXPECT_TRUE(Contains(text, std::string("  ") + name)) << name;
  }
  EXPECT_FALSE(Contains(text, "[ --")) << "Boost's own layout";
  EXPECT_FALSE(Contains(text, "operands"));
}

// As GNU getopt: an unambiguous prefix of a long option is the option; an ambiguous one is
// refused with its possibilities, a misspelt one with a suggestion.
TEST(OptionsTest, LongOptionPrefixesAndSuggestions) {
  const Parsed p = Parse({"--verb", "--chunk=2M", "--pres", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_TRUE(p.cl.options.verbose);
  EXPECT_EQ(p.cl.options.chunk_size, 2u << 20);
  EXPECT_TRUE(p.cl.options.preserve.mode);  // a bare --preserve, spelled out
  ExpectRejected({"--ver", "a", "b"},
                 "option '--ver' is ambiguous; possibilities: '--verify' "
                 "'--verbose' '--version' (try 'pcopy --help')");
  ExpectRejected({"--verfy", "a", "b"},
                 "unrecognised option '--verfy'; did you mean '--verify'? (try 'pcopy --help')");
  ExpectRejected({"--frobnicate", "a", "b"}, "unrecognised option '--frobnicate' (try");
}

TEST(OptionsTest, SiUnits) {
  EXPECT_FALSE(Parse({"a", "b"}).cl.options.si);
  EXPECT_TRUE(Parse({"--si", "a", "b"}).cl.options.si);
}

TEST(OptionsTest, SizesTakeDecimalsAndBadOnesQuoteTheValue) {
  const Parsed p = Parse({"--bwlimit", "1.5M", "--chunk-size", "0.5M", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.bwlimit, 1572864u);
  EXPECT_EQ(p.cl.options.chunk_size, 512u << 10);
  ExpectRejected({"--chunk-size", "1X", "a", "b"},
                 "invalid chunk size: '1X' (expected a size such as 64K, 1.5M or 2GiB)");
  ExpectRejected({"--chunk-size", "0", "a", "b"},
                 "invalid chunk size: '0' (expected at least 1 B)");
}

TEST(OptionsTest, HelpWinsOverOperands) {
  const Parsed p = Parse({"a", "b", "--help"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.action, Action::kHelp);
}

TEST(OptionsTest, Version) {
  for (const char* flag : {"--version", "-V"}) {
    const Parsed p = Parse({flag});
    ASSERT_OK(p.status);
    EXPECT_EQ(p.cl.action, Action::kVersion) << flag;
    const std::string& text = p.cl.text;
    EXPECT_EQ(text.rfind(std::string("pcopy ") + PCOPY_VERSION + "\nBuilt with ", 0), 0u) << text;
    for (const std::string& part :
         {std::string(", Boost ") + std::to_string(BOOST_VERSION / 100000) + ".",
          std::string(" and xxHash ") + std::to_string(XXH_VERSION_MAJOR) + ".",
          std::string(PCOPY_WITH_MPI ? "\nMPI: pcopy-mpi is built, with " PCOPY_MPI_LIBRARY ".\n"
                                     : "\nMPI: pcopy-mpi is not built"),
          std::string(".\n\nCopyright (C) 2026 the pcopy developers.\n\nWritten by the pcopy "
                      "developers.\n")}) {
      EXPECT_NE(text.find(part), std::string::npos) << part << " in\n" << text;
    }
    EXPECT_NE(std::string(PCOPY_MPI_LIBRARY).empty(), PCOPY_WITH_MPI == 1);
    ExpectLinesWithin80Columns(text);
  }
}

TEST(OptionsTest, Strategy) {
  const std::pair<const char*, Strategy> cases[] = {{"contiguous", Strategy::kContiguous},
                                                    {"interleaved", Strategy::kInterleaved},
                                                    {"dynamic", Strategy::kDynamic},
                                                    {"guided", Strategy::kGuided}};
  for (const auto& [word, strategy] : cases) {
    Parsed p = Parse({"--strategy", word, "a", "b"});
    ASSERT_OK(p.status);
    EXPECT_EQ(p.cl.options.strategy, strategy) << word;
    const std::string arg = std::string("--strategy=") + word;
    p = Parse({"a", "b", arg.c_str()});
    ASSERT_OK(p.status);
    EXPECT_EQ(p.cl.options.strategy, strategy) << word;
    EXPECT_STREQ(StrategyName(strategy), word);
  }
}

TEST(OptionsTest, BadStrategyRejected) {
  ExpectRejected({"--strategy", "random", "a", "b"}, "invalid strategy: 'random'");
  ExpectRejected({"--strategy", "random", "a", "b"}, "contiguous|interleaved|dynamic|guided");
  ExpectRejected({"--strategy", "", "a", "b"}, "strategy");
  ExpectRejected({"--strategy", "DYNAMIC", "a", "b"}, "strategy");
  ExpectRejected({"--strategy", "dyn", "a", "b"}, "strategy");
  ExpectRejected({"--strategy", "dynamic ", "a", "b"}, "strategy");
  ExpectRejected({"--strategy", "bad\nname", "a", "b"}, "strategy");
  ExpectRejected({"--strategy=bad\nname", "a", "b"}, "'bad\\nname'");
  ExpectRejected({"a", "b", "--strategy"});
}

TEST(OptionsTest, SlowWorker) {
  EXPECT_EQ(Parse({"a", "b"}).cl.options.slow_worker, 1.0);
  const std::pair<const char*, double> cases[] = {
      {"1", 1.0}, {"4", 4.0}, {"2.5", 2.5}, {"1000", 1000.0}, {"1.0", 1.0}};
  for (const auto& [text, factor] : cases) {
    const Parsed p = Parse({"--slow-worker", text, "a", "b"});
    ASSERT_OK(p.status);
    EXPECT_EQ(p.cl.options.slow_worker, factor) << text;
  }
  const Parsed p = Parse({"--slow-worker=4", "-j", "2", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.slow_worker, 4.0);
  EXPECT_EQ(p.cl.options.jobs, 2u);
}

TEST(OptionsTest, BadSlowWorkerRejected) {
  for (const char* text : {"0", "0.5", "-1", "abc", "1001", "", "0.999", "1000.5", "4x", "nan",
                           "inf", "1e400", "2 "}) {
    SCOPED_TRACE(std::string("'") + text + "'");
    ExpectRejected({"--slow-worker", text, "a", "b"}, "slow-worker");
  }
  ExpectRejected({"--slow-worker", "0", "a", "b"},
                 "invalid slow-worker factor: '0' (expected 1 to 1000)");
  ExpectRejected({"a", "b", "--slow-worker"});
}

TEST(OptionsTest, RetriesAndStallTimeout) {
  Parsed p = Parse({"a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.retries, 3u);
  EXPECT_EQ(p.cl.options.stall_timeout, 60.0);
  p = Parse({"--retries", "0", "--stall-timeout", "0.5", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.retries, 0u);
  EXPECT_EQ(p.cl.options.stall_timeout, 0.5);
  p = Parse({"--retries=1000", "--stall-timeout=0", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.retries, 1000u);
  EXPECT_EQ(p.cl.options.stall_timeout, 0.0);
  for (const char* bad : {"-1", "1001", "abc", "", "1.5", " 2", "99999999999"}) {
    SCOPED_TRACE(bad);
    ExpectRejected({"--retries", bad, "a", "b"}, "retries");
  }
  for (const char* bad : {"-1", "abc", "", "86401", "1e3", "0x10"}) {
    SCOPED_TRACE(bad);
    ExpectRejected({"--stall-timeout", bad, "a", "b"}, "stall timeout");
  }
}

TEST(OptionsTest, ParseResetsPreviousResult) {
  CommandLine cl;
  cl.options.fsync = true;
  cl.options.jobs = 77;
  const char* argv[] = {"pcopy", "a", "b", nullptr};
  ASSERT_OK(ParseCommandLine(3, argv, &cl));
  EXPECT_FALSE(cl.options.fsync);
  EXPECT_EQ(cl.options.jobs, OnlineCpus());
}

}  // namespace
}  // namespace pcopy

namespace pcopy {
namespace {

TEST(OptionsTest, ResumeModes) {
  Parsed p = Parse({"a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.resume, ResumeMode::kAuto);
  EXPECT_FALSE(p.cl.options.fsync);
  // A record is only as good as the data under it: --resume makes the copy durable.
  p = Parse({"--resume", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.resume, ResumeMode::kAlways);
  EXPECT_TRUE(p.cl.options.fsync);
  p = Parse({"--no-resume", "--fsync", "a", "b"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.options.resume, ResumeMode::kNever);
  ExpectRejected({"--resume", "--no-resume", "a", "b"}, "--resume and --no-resume");
}

TEST(OptionsTest, DiscardPartialTakesTheCopysOperands) {
  Parsed p = Parse({"--discard-partial", "a", "dir/"});
  ASSERT_OK(p.status);
  EXPECT_EQ(p.cl.action, Action::kDiscardPartial);
  EXPECT_EQ(p.cl.options.source, "a");
  EXPECT_EQ(p.cl.options.dest, "dir/");
  ExpectRejected({"--discard-partial", "a", "b", "dir"}, "--discard-partial takes SOURCE and DEST");
  ExpectRejected({"--discard-partial", "-t", "dir", "a"},
                 "--discard-partial takes SOURCE and DEST");
  ExpectRejected({"--discard-partial", "a"}, "missing destination");
  ExpectRejected({"--discard-partial", "--checksum", "a"}, "--discard-partial goes with none");
  ExpectRejected({"--discard-partial", "--resume", "a", "b"}, "--discard-partial goes with none");
}

}  // namespace
}  // namespace pcopy
