#include "app/options.h"

#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <boost/version.hpp>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string_view>
#include <utility>

#include "app/help_format.h"
#include "app/help_text.h"
#include "app/option_names.h"
#include "app/option_values.h"
#include "base/program_name.h"
#include "base/size_parse.h"
#include "exec/entry_copy.h"

namespace po = boost::program_options;

namespace pcopy {
namespace {

constexpr const char* kPreserveDefault = "mode,ownership,timestamps";  // -p, bare --preserve

constexpr std::pair<const char*, Method> kMethods[] = {
    {"auto", Method::kAuto},
    {"copy_file_range", Method::kCopyFileRange},
    {"copy_file_range+pread", Method::kCopyFileRangeOrPread},
    {"pread", Method::kPread},
    {"sendfile", Method::kSendfile},
    {"mmap", Method::kMmap},
    {"direct", Method::kDirect}};
constexpr std::pair<const char*, Strategy> kStrategies[] = {{"contiguous", Strategy::kContiguous},
                                                            {"interleaved", Strategy::kInterleaved},
                                                            {"dynamic", Strategy::kDynamic},
                                                            {"guided", Strategy::kGuided}};
constexpr std::pair<const char*, SparseMode> kSparseModes[] = {
    {"auto", SparseMode::kAuto}, {"always", SparseMode::kAlways}, {"never", SparseMode::kNever}};
constexpr std::pair<const char*, ReflinkMode> kReflinkModes[] = {
    {"auto", ReflinkMode::kAuto}, {"always", ReflinkMode::kAlways}, {"never", ReflinkMode::kNever}};
constexpr std::pair<const char*, ProgressMode> kProgressModes[] = {{"auto", ProgressMode::kAuto},
                                                                   {"bar", ProgressMode::kBar},
                                                                   {"plain", ProgressMode::kPlain},
                                                                   {"json", ProgressMode::kJson},
                                                                   {"none", ProgressMode::kNone}};

// A string value named as the help names it (SIZE, N, ...), with its default if it has one.
po::typed_value<std::string>* Value(const char* name, const char* default_value = nullptr) {
  po::typed_value<std::string>* v = po::value<std::string>();
  v->value_name(name);
  if (default_value != nullptr) v->default_value(default_value);
  return v;
}

struct OptionGroup {
  std::string caption;
  po::options_description options;
};

// The options by group, in the order --help lists them.
std::vector<OptionGroup> Describe() {
  // Every value is taken as a string and validated here, so each bad value gets pcopy's own
  // one-line message rather than a Boost exception text.
  std::vector<OptionGroup> groups;
  groups.push_back({"Copying", po::options_description()});
  groups.back().options.add_options()("jobs,j", Value("N"),
                                      "worker processes (default: online CPUs)")(
      "strategy", Value("NAME", "dynamic"),
      "how the work is split: contiguous, interleaved, dynamic or guided")(
      "chunk-size", Value("SIZE", "1M"),
      "unit of work: the chunk dealt or handed out; at most size/chunk workers")(
      "buffer-size", Value("SIZE", "32K"),
      "bytes per read/write (direct: 1M); given, auto does not tune it")(
      "method", Value("NAME", "auto"),
      "auto, copy_file_range, copy_file_range+pread, pread, sendfile, mmap, direct")(
      "sparse", Value("WHEN", "auto"),
      "auto, always or never: keep SOURCE's holes (always: leave zero blocks unwritten too)")(
      "reflink", Value("WHEN", "auto"),
      "auto, always or never: clone SOURCE (share its extents) where the file system can")(
      "bwlimit", Value("RATE", "0"), "limit the whole copy to RATE bytes per second; 0: no limit")(
      "slow-worker", Value("FACTOR", "1"),
      "make worker 0 FACTOR times slower, to study strategies on an uneven machine");
  groups.push_back({"Destination, trees and attributes (as cp)", po::options_description()});
  groups.back().options.add_options()(
      "no-clobber,n", "do not overwrite an existing DEST (exit 0, nothing written)")(
      "update,u", "copy only when SOURCE is newer than DEST, or DEST is missing")(
      "force,f", "replace a DEST that this user may not write (refused otherwise, as cp does)")(
      "target-directory,t", Value("DIRECTORY"), "copy every SOURCE into DIRECTORY")(
      "no-target-directory,T", "treat DEST as a name to create, never a directory to copy into")(
      "recursive,r", "copy directories recursively")(",R", "same as -r")(
      "archive,a", "same as -r -P --preserve=all")(",p",
                                                   "same as --preserve=mode,ownership,timestamps")(
      "preserve", Value("[LIST]"),
      "preserve the attributes in LIST: mode, ownership, timestamps, links, xattr, all")(
      "no-preserve", Value("LIST"), "do not preserve the attributes in LIST")(
      "no-dereference,P", "never follow symbolic links in SOURCE (the default with -r)")(
      "dereference,L", "always follow symbolic links in SOURCE")(
      ",H", "follow the symbolic links named on the command line")(
      "one-file-system,x", "stay on the file system of each SOURCE")(
      "fail-fast", "stop at the first entry that cannot be copied (default: report it, go on)");
  groups.push_back({"Safety", po::options_description()});
  groups.back().options.add_options()("fsync", "make the data durable before DEST appears")(
      "verify", "read the copy back from storage and compare it with SOURCE (XXH3-128 by 1 MiB)")(
      "resume",
      "keep what an interrupted copy made durable; the same command resumes it "
      "(implies --fsync; the default with --fsync from 1G of data)")(
      "resume-by-content",
      "as --resume, and a tree's files already there count as copied only if their bytes match "
      "(default: size and mtime with -p, bytes without)")(
      "no-resume", "never resume, and remove a partial copy of DEST an earlier run kept")(
      "discard-partial",
      "remove the partial copy (or tree) that an interrupted copy of SOURCE to DEST kept")(
      "retries", Value("N", "3"),
      "replace a worker that dies or stalls, resuming its work, at most N times")(
      "stall-timeout", Value("SECONDS", "60"),
      "seconds a worker may copy nothing before it is replaced (0: never)");
  groups.push_back({"Output", po::options_description()});
  groups.back().options.add_options()(
      "progress", Value("MODE", "auto"),
      "auto, bar, plain, json or none; auto draws a bar when stderr is a "
      "terminal")("verbose,v", "print the plan, the method used and the throughput")(
      "quiet,q", "print nothing but errors (with --check: only the failures)")(
      "si",
      "sizes and rates in powers of 1000 (kB, MB/s), as dd prints them (default: powers "
      "of 1024, KiB, MiB/s)")(
      "print-digest", "after the copy, print DIGEST  DEST (the --checksum digest of the copy)");
  groups.push_back({"Other modes (they copy nothing)", po::options_description()});
  groups.back().options.add_options()(
      "checksum", Value("[ALGO]"),
      "print DIGEST  FILE for each FILE ('-': standard input); ALGO is tree (the default: "
      "XXH3-128 over 1 MiB leaf digests, read in parallel) or xxh128 (as xxhsum -H2)")(
      "check", Value("[ALGO]"),
      "read DIGEST  FILE lines from each LIST, check each FILE: OK or FAILED; ALGO as for "
      "--checksum")("compare", "compare two existing files: exit 0 same, 1 different, 2 trouble")(
      "demo", "copy a generated file, check the copy, report the throughput")(
      "demo-size", Value("SIZE", "1G"), "size of the demo file")(
      "help,h", "show this help and exit")("version,V", "show the version and exit");
  return groups;
}

Status ChooseAction(const po::variables_map& vm, bool no_arguments, CommandLine* out);

// The numeric options: counts, sizes, rates and decimals.
Status ParseNumbers(const po::variables_map& vm, Options* o) {
  o->jobs = OnlineCpus();
  o->jobs_given = vm.count("jobs") != 0;
  if (o->jobs_given) {
    if (Status s =
            ParseCount("number of jobs", vm["jobs"].as<std::string>(), 1, kMaxJobs, &o->jobs);
        !s.ok()) {
      return s;
    }
  }
  auto str = [&](const char* k) { return vm[k].as<std::string>(); };
  if (Status s = ParseSizeOption("chunk size", str("chunk-size"), 1, &o->chunk_size); !s.ok()) {
    return s;
  }
  if (Status s = ParseSizeOption("buffer size", str("buffer-size"), 1, &o->buffer_size); !s.ok()) {
    return s;
  }
  if (o->buffer_size > (1ull << 30)) return Usage("invalid buffer size: at most 1 GiB");
  o->buffer_size_given = !vm["buffer-size"].defaulted();
  if (Status s = ParseSizeOption("bandwidth limit", str("bwlimit"), 0, &o->bwlimit); !s.ok()) {
    return s;
  }
  if (Status s = ParseSizeOption("demo size", str("demo-size"), 1, &o->demo_size); !s.ok()) {
    return s;
  }
  if (Status s =
          ParseDecimal("slow-worker factor", str("slow-worker"), 1, 1000, "", &o->slow_worker);
      !s.ok()) {
    return s;
  }
  if (Status s = ParseCount("retries", str("retries"), 0, 1000, &o->retries); !s.ok()) return s;
  return ParseDecimal("stall timeout", str("stall-timeout"), 0, 86400, " seconds",
                      &o->stall_timeout);
}

// The tree options: recursion, symlinks, attributes to preserve.
Status ParseTreeOptions(const po::variables_map& vm, Options* o) {
  o->recursive = vm.count("recursive") > 0 || vm.count("-R") > 0;
  const int derefs =
      (vm.count("no-dereference") > 0) + (vm.count("dereference") > 0) + (vm.count("-H") > 0);
  if (derefs > 1) return Usage("-P, -L and -H go one at a time");
  if (vm.count("archive")) {
    o->recursive = true;
    o->dereference = Dereference::kNever;
    if (Status s = ParsePreserveList("all", true, &o->preserve); !s.ok()) return s;
  }
  if (vm.count("no-dereference")) o->dereference = Dereference::kNever;
  if (vm.count("dereference")) o->dereference = Dereference::kAlways;
  if (vm.count("-H")) o->dereference = Dereference::kCommandLine;
  if (vm.count("-p")) {
    if (Status s = ParsePreserveList(kPreserveDefault, true, &o->preserve); !s.ok()) {
      return s;
    }
  }
  if (vm.count("preserve")) {
    if (Status s = ParsePreserveList(vm["preserve"].as<std::string>(), true, &o->preserve);
        !s.ok()) {
      return Usage(s.ToString());
    }
  }
  if (vm.count("no-preserve")) {
    if (Status s = ParsePreserveList(vm["no-preserve"].as<std::string>(), false, &o->preserve);
        !s.ok()) {
      return Usage(s.ToString());
    }
  }
  o->one_file_system = vm.count("one-file-system") > 0;
  o->update = vm.count("update") > 0;
  o->fail_fast = vm.count("fail-fast") > 0;
  return {};
}

// --sparse and --reflink: how DEST's data is laid down. --sparse=always looks at every block it
// reads, so it needs the one method that reads them all into a buffer.
Status ParseDataChoices(const po::variables_map& vm, Options* o) {
  if (Status s =
          ParseChoice("sparse mode", vm["sparse"].as<std::string>(), kSparseModes, &o->sparse);
      !s.ok()) {
    return s;
  }
  if (o->sparse == SparseMode::kAlways && o->method != Method::kAuto &&
      o->method != Method::kPread) {
    return Usage("--sparse=always reads every block: it goes with --method auto or pread");
  }
  return ParseChoice("reflink mode", vm["reflink"].as<std::string>(), kReflinkModes, &o->reflink);
}

// The options that name one of a set: method, strategy, sparse, reflink, progress.
Status ParseChoices(const po::variables_map& vm, Options* o) {
  auto str = [&](const char* k) { return vm[k].as<std::string>(); };
  if (Status s = ParseChoice("method", str("method"), kMethods, &o->method); !s.ok()) return s;
  if (o->method == Method::kDirect && vm["buffer-size"].defaulted()) {
    o->buffer_size = kDefaultDirectBufferSize;
  }
  if (Status s = ParseChoice("strategy", str("strategy"), kStrategies, &o->strategy); !s.ok()) {
    return s;
  }
  if (Status s = ParseDataChoices(vm, o); !s.ok()) return s;
  return ParseChoice("progress mode", str("progress"), kProgressModes, &o->progress);
}

Status Interpret(const po::variables_map& vm, bool no_arguments, CommandLine* out) {
  Options& o = out->options;
  if (Status s = ParseNumbers(vm, &o); !s.ok()) return s;
  if (Status s = ParseChoices(vm, &o); !s.ok()) return s;
  if (Status s = ParseTreeOptions(vm, &o); !s.ok()) return s;
  o.no_clobber = vm.count("no-clobber") > 0;
  o.force = vm.count("force") > 0;
  o.fsync = vm.count("fsync") > 0;
  if ((vm.count("resume") || vm.count("resume-by-content")) && vm.count("no-resume")) {
    return Usage("--resume and --no-resume cannot be used together");
  }
  o.resume_content = vm.count("resume-by-content") > 0;
  if (vm.count("resume") || o.resume_content) o.resume = ResumeMode::kAlways;
  if (vm.count("no-resume")) o.resume = ResumeMode::kNever;
  o.fsync = o.fsync || o.resume == ResumeMode::kAlways;
  o.verbose = vm.count("verbose") > 0;
  o.quiet = vm.count("quiet") > 0;
  o.si = vm.count("si") > 0;
  if (o.verbose && o.quiet) return Usage("--verbose and --quiet cannot be used together");
  return ChooseAction(vm, no_arguments, out);
}

// The first of the options that need DEST to be a file pcopy makes and publishes (to check, keep
// or replace it), or SOURCE to be a file with times, an owner and extents, with the reason where
// it is not plain; nullptr if none.
const char* NeedsFiles(const Options& o, bool dest) {
  if (dest && o.verify) return "--verify:it cannot be read back";
  if (dest && o.print_digest) return "--print-digest";
  if (dest && o.no_clobber) return "-n";
  if (o.update) return "-u";
  if (o.resume == ResumeMode::kAlways) return o.resume_content ? "--resume-by-content" : "--resume";
  if (PreservesAny(o.preserve)) return "-p, -a and --preserve";
  if (o.reflink == ReflinkMode::kAlways) return "--reflink=always";
  // The one process that copies a stream is not paced; the workers' pacer is not its to use.
  if (o.bwlimit != 0) return "--bwlimit:it paces workers, and a stream is copied by one process";
  return nullptr;
}

// '-' is standard input as SOURCE and standard output as DEST (a file named '-' is './-'): one
// of each, alone, without the options that need real files. Said here, before anything is read.
Status CheckStandardStreams(const Options& o) {
  if (o.target_is_directory && o.dest == "-") {
    return Usage(
        "-t takes a directory, and '-' is standard output (a directory named '-' is "
        "'./-')");
  }
  const bool to_stdout = !o.target_is_directory && o.dest == "-";
  const bool from_stdin =
      std::find(o.sources.begin(), o.sources.end(), std::string("-")) != o.sources.end();
  if ((to_stdout || from_stdin) && o.sources.size() > 1) {
    return Usage(to_stdout ? "standard output ('-') takes one SOURCE"
                           : "standard input ('-') is copied alone, to one DEST");
  }
  const char* needs = to_stdout ? NeedsFiles(o, true) : from_stdin ? NeedsFiles(o, false) : nullptr;
  if (needs == nullptr) return {};
  const std::string option(needs);
  const size_t colon = option.find(':');
  return Usage(option.substr(0, colon) + " cannot be used with " +
               (to_stdout ? "DEST '-' (standard output)" : "SOURCE '-' (standard input)") +
               (colon == std::string::npos ? "" : ": " + option.substr(colon + 1)));
}

// cp's operands: SOURCE DEST, SOURCE... DIRECTORY, -t DIRECTORY SOURCE..., -T SOURCE DEST.
Status ChooseCopyOperands(const po::variables_map& vm, std::vector<std::string> operands,
                          Options* out) {
  Options& o = *out;
  o.no_target_directory = vm.count("no-target-directory") > 0;
  if (vm.count("target-directory")) {
    if (o.no_target_directory) {
      return Usage("cannot combine --target-directory (-t) and --no-target-directory (-T)");
    }
    o.dest = vm["target-directory"].as<std::string>();
    o.target_is_directory = true;
  } else {
    if (operands.size() == 1) {
      return Usage("missing destination file operand after " + Quote(operands[0]));
    }
    if (o.no_target_directory && operands.size() > 2) {
      return Usage("extra operand " + Quote(operands[2]));
    }
    o.dest = operands.back();
    operands.pop_back();
  }
  if ((o.verify || o.print_digest) && operands.size() > 1) {
    return Usage("--verify and --print-digest copy one SOURCE to one DEST");
  }
  o.sources = operands;
  o.source = operands[0];
  return CheckStandardStreams(o);
}

// What the operands are for: a copy, a comparison, files to digest or lists to check.
Status ChooseAction(const po::variables_map& vm, bool no_arguments, CommandLine* out) {
  Options& o = out->options;
  std::vector<std::string> operands;
  if (vm.count("operands")) operands = vm["operands"].as<std::vector<std::string>>();
  // --demo-size alone asks for the demo too; with operands it would be silently ignored.
  const bool demo_size = !vm["demo-size"].defaulted();
  o.verify = vm.count("verify") > 0;  // the demo's copy too
  if (vm.count("demo") || no_arguments || (demo_size && operands.empty())) {
    if (!operands.empty()) return Usage("--demo takes no operands");
    out->action = Action::kDemo;
    return {};
  }
  if (demo_size) return Usage("--demo-size goes with --demo, not with operands");
  o.print_digest = vm.count("print-digest") > 0;
  const bool checksum = vm.count("checksum") > 0, check = vm.count("check") > 0;
  const bool compare = vm.count("compare") > 0;
  if (vm.count("discard-partial") &&
      (checksum || check || compare || vm.count("resume") || vm.count("resume-by-content"))) {
    return Usage("--discard-partial goes with none of --checksum, --check, --compare, --resume");
  }
  if (checksum && (o.verify || compare || o.print_digest || check)) {
    return Usage("--checksum goes with none of --verify, --compare, --print-digest, --check");
  }
  if (check && (o.verify || compare || o.print_digest)) {
    return Usage("--check goes with none of --verify, --compare, --print-digest");
  }
  if (compare) {
    if (o.verify || o.print_digest) {
      return Usage("--compare goes with neither --verify nor --print-digest");
    }
    if (operands.size() != 2) return Usage("--compare takes two files");
    if (operands[0] == "-" || operands[1] == "-") {
      return Usage(
          "--compare reads two files by offset, not standard input (a file named '-' "
          "is './-')");
    }
    o.source = operands[0];
    o.dest = operands[1];
    out->action = Action::kCompare;
    return {};
  }
  if (operands.empty()) {
    return Usage(checksum ? "--checksum needs a FILE to digest ('-': standard input)"
                 : check  ? "--check needs a LIST of digests ('-': standard input)"
                          : "missing file operand");
  }
  if (checksum || check) {
    const std::string algo = vm[checksum ? "checksum" : "check"].as<std::string>();
    if (algo == "xxh128") {
      o.digest = DigestKind::kXxh128;
    } else if (algo != "tree") {
      return Usage("invalid digest algorithm: " + Quote(algo) + " (expected tree or xxh128)");
    }
    o.files = operands;
    out->action = checksum ? Action::kChecksum : Action::kCheck;
    return {};
  }
  if (Status s = ChooseCopyOperands(vm, std::move(operands), &o); !s.ok()) return s;
  out->action = Action::kCopy;
  if (vm.count("discard-partial")) {
    if (o.sources.size() != 1 || o.target_is_directory) {
      return Usage("--discard-partial takes SOURCE and DEST, as the copy it removes");
    }
    out->action = Action::kDiscardPartial;
  }
  return {};
}

}  // namespace

std::string VersionText() {
#if defined(__clang__)
  const std::string compiler =
      "Clang " + std::to_string(__clang_major__) + "." + std::to_string(__clang_minor__);
#else
  const std::string compiler = std::string("GCC ") + __VERSION__;
#endif
  const auto dotted = [](unsigned major, unsigned minor, unsigned patch) {
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  };
  // What this build is comes under the version line; then GNU's copyright and authors, each a
  // paragraph of its own, which help2man makes the man page's COPYRIGHT and AUTHOR. No licence
  // line: pcopy's owners have not chosen one yet.
  std::string text = std::string(ProgramName()) + " " + PCOPY_VERSION + "\n";
  text += "Built with " + compiler + ", Boost " +
          dotted(BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100) +
          " and xxHash " + dotted(XXH_VERSION_MAJOR, XXH_VERSION_MINOR, XXH_VERSION_RELEASE) +
          ".\n";
  text += PCOPY_WITH_MPI ? "MPI: pcopy-mpi is built, with " PCOPY_MPI_LIBRARY ".\n"
                         : "MPI: pcopy-mpi is not built (no MPI was found at build time).\n";
  text += "\nCopyright (C) 2026 the pcopy developers.\n";
  text += "\nWritten by the pcopy developers.\n";
  return text;
}

const char* MethodName(Method m) {
  for (const auto& [word, value] : kMethods) {
    if (value == m) return word;
  }
  return "?";
}

const char* StrategyName(Strategy s) {
  for (const auto& [word, value] : kStrategies) {
    if (value == s) return word;
  }
  return "?";
}

unsigned OnlineCpus() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1u : n > static_cast<long>(kMaxJobs) ? kMaxJobs : static_cast<unsigned>(n);
}

// Options whose value is optional (--preserve[=LIST]): cp's bare --preserve means
// --preserve=mode,ownership,timestamps and never takes the next word as its list, as Boost's
// implicit values would; the bare form is spelled out before parsing.
void WithBareDefaults(std::vector<std::string>* args) {
  static const std::pair<std::string_view, const char*> kBare[] = {
      {"--preserve", kPreserveDefault}, {"--checksum", "tree"}, {"--check", "tree"}};
  for (std::string& arg : *args) {
    if (arg == "--") break;
    for (const auto& [name, value] : kBare) {
      if (arg == name) arg = std::string(name) + "=" + value;
    }
  }
}

Status ParseCommandLine(int argc, const char* const* argv, CommandLine* out) {
  *out = CommandLine{};
  const std::vector<OptionGroup> groups = Describe();
  po::options_description all;
  for (const OptionGroup& g : groups) all.add(g.options);
  all.add_options()("operands", po::value<std::vector<std::string>>());
  std::vector<std::string> names;
  for (const auto& option : all.options()) {
    if (!option->long_name().empty() && option->long_name() != "operands") {
      names.push_back(option->long_name());
    }
  }
  std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  if (const std::string unknown = ExpandLongOptions(names, &args); !unknown.empty()) {
    return Usage(unknown);
  }
  WithBareDefaults(&args);
  po::positional_options_description positional;
  positional.add("operands", -1);

  po::variables_map vm;
  try {
    po::store(
        po::command_line_parser(args)
            .options(all)
            .positional(positional)
            .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
            .run(),
        vm);
    po::notify(vm);
  } catch (const po::invalid_command_line_syntax& e) {
    // GNU getopt's words for an option given without its value, by its long name (Boost tells
    // that one, even for -j).
    if (e.kind() == po::invalid_syntax::missing_parameter) {
      return Usage("option " + Quote(e.get_option_name()) + " requires an argument");
    }
    return Usage(e.what());
  } catch (const po::error& e) {
    return Usage(e.what());
  } catch (const std::exception& e) {
    return Usage(e.what());
  }

  if (vm.count("help")) {
    std::ostringstream text;
    text << kUsage << "Copy SOURCE to DEST with parallel worker processes.\n";
    for (const OptionGroup& g : groups) text << "\n" << FormatOptionGroup(g.caption, g.options);
    text << kAfterOptions;
    out->action = Action::kHelp;
    out->text = text.str();
    return {};
  }
  if (vm.count("version")) {
    out->action = Action::kVersion;
    out->text = VersionText();
    return {};
  }
  return Interpret(vm, argc <= 1, out);
}

}  // namespace pcopy
