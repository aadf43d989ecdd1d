#include "app/checksum_job.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <span>
#include <vector>

#include "app/digest_list.h"
#include "app/in_process.h"
#include "base/program_name.h"
#include "base/unique_fd.h"
#include "copy/digest.h"
#include "exec/parallel_digest.h"
#include "os/source_file.h"

namespace pcopy {
namespace {

// A file's error, printed where it happens (see checksum_job.h).
void ReportError(const Console& console, const Status& status) {
  fflush(console.out);
  fprintf(console.err, "%s: %s\n", ProgramName(), status.ToString().c_str());
}

// Whether a line could not be written (its reader went away, the disk is full): the lines still
// to come would be lost too, so the files are not read for them, as SIGPIPE stops sha256sum | head.
// main says the error once (app/command.h ReportOutcome): quietly 141 for EPIPE, exit 1 otherwise.
bool OutputLost(const Console& console) { return ferror(console.out) != 0; }

CopyOutcome Interrupted(int signal, const char* unfinished) {
  return CopyOutcome{Status::Interrupted(signal, unfinished), ExitCodeForSignal(signal), {}};
}

// Reads a checksum list line by line. A list on a pipe or a terminal can keep pcopy waiting, so
// it waits in the guard's one wait (signal_guard.h), where a SIGINT, SIGTERM or SIGHUP ends it.
class LineReader {
 public:
  LineReader(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  // The next line without its newline; *got is false at the end of the input, or when a
  // terminating signal came (signals.terminating_signal()).
  Status Next(SignalGuard& signals, std::string* line, bool* got);

 private:
  int fd_;
  std::string name_;
  std::string buffer_;
  size_t start_ = 0;  // where the unread part of buffer_ begins
  bool ended_ = false;
};

Status LineReader::Next(SignalGuard& signals, std::string* line, bool* got) {
  *got = false;
  for (;;) {
    const size_t newline = buffer_.find('\n', start_);
    if (newline != std::string::npos || (ended_ && start_ < buffer_.size())) {
      const size_t end = newline != std::string::npos ? newline : buffer_.size();
      line->assign(buffer_, start_, end - start_);
      start_ = end + 1;
      *got = true;
      return {};
    }
    if (ended_ || signals.Poll() != 0) return {};
    buffer_.erase(0, start_);
    start_ = 0;
    pollfd p{fd_, POLLIN, 0};
    if (signals.Wait(std::span<pollfd>(&p, 1), std::chrono::seconds(1)) <= 0) continue;
    char chunk[1 << 16];
    const ssize_t n = read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno != EINTR && errno != EAGAIN) return Status::FromErrno("read", name_, errno);
    if (n == 0) ended_ = true;
    if (n > 0) buffer_.append(chunk, static_cast<size_t>(n));
  }
}

struct CheckCounts {
  uint64_t formatted = 0;     // lines of the form DIGEST  NAME
  uint64_t misformatted = 0;  // other lines (comments and empty lines are not counted)
  uint64_t unreadable = 0;
  uint64_t mismatched = 0;
};

// Digests one listed file and says how it compares; false only when a signal stopped it.
bool CheckFile(const Options& o, const std::string& expected, const std::string& name,
               SignalGuard& signals, const Console& console, CheckCounts* counts) {
  std::string actual;
  const Status s = DigestFile(name, o, &signals, &actual);
  if (s.signal() != 0) return false;
  const std::string shown = EscapedName(name);
  if (!s.ok()) {
    ++counts->unreadable;
    ReportError(console, s);
    fprintf(console.out, "%s: FAILED open or read\n", shown.c_str());
  } else if (actual != expected) {
    ++counts->mismatched;
    fprintf(console.out, "%s: FAILED\n", shown.c_str());
  } else if (!o.quiet) {
    fprintf(console.out, "%s: OK\n", shown.c_str());
  }
  return true;
}

// sha256sum -c's closing words for one list; true if all of it was well formed and matched.
bool Summarize(const CheckCounts& c, const std::string& list, const Console& console) {
  fflush(console.out);
  if (c.formatted == 0) {
    fprintf(console.err, "%s: %s: no properly formatted checksum lines found\n", ProgramName(),
            Quote(list).c_str());
    return false;
  }
  const auto n = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  if (c.misformatted != 0) {
    fprintf(console.err, "%s: WARNING: %llu line%s improperly formatted\n", ProgramName(),
            n(c.misformatted), c.misformatted == 1 ? " is" : "s are");
  }
  if (c.unreadable != 0) {
    fprintf(console.err, "%s: WARNING: %llu listed file%s could not be read\n", ProgramName(),
            n(c.unreadable), c.unreadable == 1 ? "" : "s");
  }
  if (c.mismatched != 0) {
    fprintf(console.err, "%s: WARNING: %llu computed checksum%s did NOT match\n", ProgramName(),
            n(c.mismatched), c.mismatched == 1 ? "" : "s");
  }
  return c.misformatted == 0 && c.unreadable == 0 && c.mismatched == 0;
}

// Checks every file one list names; true if all went well.
bool CheckList(const Options& o, const std::string& list, SignalGuard& signals,
               const Console& console) {
  const bool from_stdin = list == "-";
  const std::string shown = from_stdin ? "standard input" : list;
  UniqueFd opened(from_stdin ? -1 : open(list.c_str(), O_RDONLY | O_CLOEXEC));
  if (!from_stdin && !opened.valid()) {
    ReportError(console, Status::FromErrno("cannot open", list, errno).WithTail("for reading"));
    return false;
  }
  if (struct stat st; opened.valid() && fstat(opened.get(), &st) == 0 && S_ISDIR(st.st_mode)) {
    ReportError(console, Status::Failure("cannot read", list,
                                         "it is a directory; --check reads lists of digests"));
    return false;
  }
  LineReader reader(from_stdin ? STDIN_FILENO : opened.get(), shown);
  CheckCounts counts;
  std::string line, digest, name;
  for (bool got = true; got;) {
    if (signals.Poll() != 0) return false;
    if (Status s = reader.Next(signals, &line, &got); !s.ok()) {
      ReportError(console, s);
      return false;
    }
    if (!got || IsIgnoredLine(line)) continue;
    if (!ParseDigestLine(line, &digest, &name)) {
      ++counts.misformatted;
      continue;
    }
    ++counts.formatted;
    if (!CheckFile(o, digest, name, signals, console, &counts)) return false;
    if (OutputLost(console) && signals.Poll() == 0) {
      return counts.misformatted == 0 && counts.unreadable == 0 && counts.mismatched == 0;
    }
  }
  if (signals.terminating_signal() != 0) return false;
  return Summarize(counts, shown, console);
}

constexpr const char* kUnfinished = "the remaining files were not digested";

CopyOutcome Checksum(const Options& o, SignalGuard& signals, const Console& console) {
  bool all_read = true;
  for (const std::string& name : o.files) {
    if (signals.Poll() != 0) return Interrupted(signals.terminating_signal(), kUnfinished);
    std::string digest;
    if (Status s = DigestFile(name, o, &signals, &digest); !s.ok()) {
      if (s.signal() != 0) return Interrupted(s.signal(), kUnfinished);
      ReportError(console, s);
      all_read = false;
      continue;
    }
    fprintf(console.out, "%s\n", DigestLine(digest, name).c_str());
    if (OutputLost(console) && signals.Poll() == 0) break;  // a signal is said at the top
  }
  return CopyOutcome{{}, all_read ? kExitOk : kExitFailure, {}};
}

CopyOutcome Check(const Options& o, SignalGuard& signals, const Console& console) {
  bool all_matched = true;
  for (const std::string& list : o.files) {
    all_matched = CheckList(o, list, signals, console) && all_matched;
    if (signals.terminating_signal() != 0) {
      return Interrupted(signals.terminating_signal(), "the check is incomplete");
    }
    if (OutputLost(console)) break;
  }
  return CopyOutcome{{}, all_matched ? kExitOk : kExitFailure, {}};
}

}  // namespace

Status DigestFile(const std::string& path, const Options& o, SignalGuard* signals,
                  std::string* digest) {
  std::vector<Digest128> leaves;
  if (path == "-") {
    const DigestInput in{STDIN_FILENO, "standard input"};
    if (o.digest == DigestKind::kXxh128) return DigestWhole(in, signals, digest);
    if (Status s = DigestStream(in, signals, &leaves); !s.ok()) return s;
    *digest = TreeDigest(leaves);
    return {};
  }
  SourceFile f;
  if (Status s = OpenSource(path, &f, SourceUse::kDigest); !s.ok()) return s;
  const DigestInput in{f.fd.get(), path};
  if (o.digest == DigestKind::kXxh128) {
    // One reader, in order: tell the kernel, so that it reads ahead further.
    posix_fadvise(f.fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    return DigestWhole(in, signals, digest);
  }
  // One leaf or less (or an unknown size) gives a pool nothing to share, and starting one costs a
  // few milliseconds a file: read here, in order (the same leaf digests).
  if (f.size <= kLeafSize) {
    if (Status s = DigestToEnd(in, &leaves); !s.ok()) return s;
  } else {
    LeafReport report;
    if (Status s = DigestLeaves(in, {}, f.size, WorkersFor(o, f.size), {}, &report, signals);
        !s.ok()) {
      return s;
    }
    leaves = std::move(report.digests);
  }
  *digest = TreeDigest(leaves);
  return {};
}

CopyOutcome RunChecksum(const Options& o, SignalGuard& signals, const Console& console) {
  return RunGuarded([&] { return Checksum(o, signals, console); });
}

CopyOutcome RunCheck(const Options& o, SignalGuard& signals, const Console& console) {
  return RunGuarded([&] { return Check(o, signals, console); });
}

}  // namespace pcopy
