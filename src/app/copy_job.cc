#include "app/copy_job.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>

#include "app/digest_list.h"
#include "app/method_choice.h"
#include "app/progress_view.h"
#include "app/verify_copy.h"
#include "base/size_parse.h"
#include "copy/digest.h"
#include "copy/io.h"
#include "exec/fork_executor.h"
#include "exec/parallel_digest.h"
#include "os/destination.h"
#include "os/leftovers.h"
#include "os/source_file.h"
#include "os/stepped_sync.h"
#include "os/temp_file.h"
#include "plan/plan.h"
#include "plan/work_list.h"

namespace pcopy {
namespace {

CopyOutcome Interrupted(int signal) {
  return CopyOutcome{
      Status::Interrupted(signal, "DEST left untouched"), ExitCodeForSignal(signal), {}};
}

// A status from a step that waited through the guard may say a signal stopped it.
CopyOutcome Failed(Status status) {
  if (status.signal() != 0) return Interrupted(status.signal());
  return CopyOutcome{std::move(status), kExitFailure, {}};
}

mode_t CurrentUmask() {
  const mode_t mask = umask(0);
  umask(mask);
  return mask;
}

std::optional<ProgressStyle> ChooseProgress(const Options& o, const Console& console) {
  if (o.quiet) return std::nullopt;
  switch (o.progress) {
    case ProgressMode::kNone:
      return std::nullopt;
    case ProgressMode::kBar:
      return ProgressStyle::kBar;
    case ProgressMode::kPlain:
      return ProgressStyle::kPlain;
    case ProgressMode::kAuto:
      if (isatty(fileno(console.err))) return ProgressStyle::kBar;
      return std::nullopt;
  }
  return std::nullopt;
}

std::string DescribeMethod(const ExecResult& r, uint64_t buffer_size) {
  std::string text;
  for (Method m : {Method::kCopyFileRange, Method::kSendfile, Method::kMmap, Method::kDirect,
                   Method::kPread}) {
    if ((r.used_methods & MethodBit(m)) == 0) continue;
    if (!text.empty()) text += ", then ";
    switch (m) {
      case Method::kPread:
        text += "pread/pwrite with " + FormatBytes(buffer_size) + " buffers";
        break;
      case Method::kMmap:
        text += "mmap + pwrite";
        break;
      case Method::kDirect:
        text += "O_DIRECT pread/pwrite";
        break;
      default:
        text += MethodName(m);
    }
  }
  if (r.fallback_errno == 0) text += " (copy_file_range copied nothing)";
  if (r.fallback_errno > 0)
    text += std::string(" (copy_file_range: ") + strerror(r.fallback_errno) + ")";
  return text;
}

void PrintPlan(FILE* out, const CopyPlan& plan) {
  fprintf(out, "pcopy: plan: %s, %zu worker%s for %s\n", StrategyName(plan.strategy),
          plan.workers.size(), plan.workers.size() == 1 ? "" : "s", FormatBytes(plan.size).c_str());
  if (plan.self_scheduled()) {
    fprintf(out, "pcopy:   %zu chunks taken in order by whichever worker is free, %s to %s\n",
            plan.queue.size(), FormatBytes(plan.queue.front().length).c_str(),
            FormatBytes(plan.queue.back().length).c_str());
    return;
  }
  constexpr size_t kShown = 16;
  for (size_t i = 0; i < plan.workers.size() && i < kShown; ++i) {
    const auto& ranges = plan.workers[i].ranges;
    fprintf(out, "pcopy:   worker %zu: %zu range%s, bytes %llu-%llu (%s)\n", i, ranges.size(),
            ranges.size() == 1 ? "" : "s", static_cast<unsigned long long>(ranges.front().offset),
            static_cast<unsigned long long>(ranges.back().end() - 1),
            FormatBytes(plan.workers[i].bytes()).c_str());
  }
  if (plan.workers.size() > kShown) {
    fprintf(out, "pcopy:   ... and %zu more workers\n", plan.workers.size() - kShown);
  }
}

// Sizes the temporary: the file system sees the final size once, and a reader of the temporary
// (there should be none) sees the real length. Then, if `reserve`, allocates its blocks, as mold
// does its output file: a file system that cannot hold the copy says so now, before any worker
// starts, rather than in a worker halfway through. One that cannot preallocate (EOPNOTSUPP,
// ENOSYS, EINVAL) is simply written. It costs nothing measurable on ext4: 1 GiB, -j 2, ten runs
// each way interleaved, medians 0.29-0.45 s with it and 0.46-1.28 s without (the virtual
// machine's stalls dominate both).
Status SizeTemporary(const SysCalls& sys, int fd, uint64_t size, bool reserve,
                     const std::string& name) {
  if (size == 0) return {};
  if (sys.ftruncate(fd, static_cast<off_t>(size)) != 0) {
    return Status::FromErrno("cannot set the size of", name, errno);
  }
  if (!reserve) return {};
  int rc = 0;
  while ((rc = sys.fallocate(fd, 0, 0, static_cast<off_t>(size))) != 0 && errno == EINTR) {
  }
  if (rc == 0 || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL) return {};
  return Status::FromErrno("cannot allocate space for", name, errno);
}

// --print-digest without --verify: the digest of what was written, read from the temporary
// before it is published (a failure or a signal then leaves DEST as it was).
Status DigestCopy(const Options& o, int fd, uint64_t size, SignalGuard* signals,
                  std::string* digest) {
  LeafReport leaves;
  if (Status s = DigestLeaves({fd, o.dest}, {}, size, o.jobs, {}, &leaves, signals); !s.ok()) {
    return s;
  }
  *digest = TreeDigest(leaves.digests);
  return {};
}

// A source whose size is unknown (procfs reports 0) or zero: read to the end in this process.
Status CopyToEnd(const SysCalls& sys, const SourceFile& src, const std::string& src_name,
                 int dst_fd, const std::string& dst_name, uint64_t buffer_size,
                 SignalGuard& signals, StreamDigests* digests, uint64_t* copied) {
  std::unique_ptr<char[]> buffer(new char[buffer_size]);
  uint64_t offset = 0;
  for (;;) {
    if (signals.Poll() != 0) return {};
    size_t got = 0;
    if (IoError e =
            ReadFull(sys, src.fd.get(), IoFile::kSource, buffer.get(), buffer_size, offset, &got);
        !e.ok()) {
      return ToStatus(e, src_name, dst_name);
    }
    if (got == 0) break;
    if (IoError e = WriteFull(sys, dst_fd, IoFile::kDest, buffer.get(), got, offset); !e.ok()) {
      return ToStatus(e, src_name, dst_name);
    }
    if (digests != nullptr) digests->Update(buffer.get(), got);
    offset += got;
  }
  *copied = offset;
  return {};
}

CopyOutcome Copy(const Options& o, SignalGuard& signals, const Console& console,
                 const SysCalls& sys) {
  SourceFile src;
  if (Status s = OpenSource(o.source, &src, SourceUse::kCopy, sys); !s.ok()) return Failed(s);
  Destination dst;
  if (Status s = ResolveDestination(o.source, o.dest, &dst, sys); !s.ok()) return Failed(s);
  if (dst.exists && dst.dev == src.dev && dst.ino == src.ino) {
    return Failed(
        Status::Message(Quote(o.source) + " and " + Quote(dst.display) + " are the same file"));
  }
  CopyOutcome outcome;
  outcome.report.dest_path = dst.path;
  if (dst.exists && o.no_clobber) {
    outcome.report.skipped = true;
    if (o.verbose) fprintf(console.out, "pcopy: not replacing %s\n", Quote(dst.path).c_str());
    return outcome;
  }
  if (!o.force) {
    if (Status s = CheckWritable(dst); !s.ok()) return Failed(s);
  }
  if (signals.Poll() != 0) return Interrupted(signals.terminating_signal());

  for (const std::string& name : RemoveLeftovers(DirName(dst.path), sys)) {
    if (o.verbose) {
      fprintf(console.out, "pcopy: removed %s, left by a pcopy that no longer runs\n",
              Quote(name).c_str());
    }
  }
  const bool writes = WritesEveryByte(o, sys, src.fd.get(), DirName(dst.path));
  if (writes) {
    if (Status s = CheckFreeSpace(sys, DirName(dst.path), dst.display, src.size); !s.ok()) {
      return Failed(s);
    }
  }
  TempFile temp;
  if (Status s = TempFile::Create(DirName(dst.path), dst.display, &temp, sys); !s.ok()) {
    return Failed(s);
  }
  if (Status s = SizeTemporary(sys, temp.fd(), src.size, writes, dst.display); !s.ok()) {
    return Failed(s);
  }

  const auto start = std::chrono::steady_clock::now();
  if (src.size == 0) {
    if (o.verbose) fprintf(console.out, "pcopy: size unknown or 0: reading to the end\n");
    uint64_t copied = 0;
    StreamDigests read;
    if (Status s = CopyToEnd(sys, src, o.source, temp.fd(), o.dest, o.buffer_size, signals,
                             o.verify || o.print_digest ? &read : nullptr, &copied);
        !s.ok()) {
      return Failed(s);
    }
    // CopyToEnd stops early on a signal: nothing partial is worth verifying.
    if (signals.terminating_signal() != 0) return Interrupted(signals.terminating_signal());
    const std::vector<Digest128>& leaves = read.Finish();
    if (o.verify || o.print_digest) outcome.report.digest = TreeDigest(leaves);
    if (o.verify) {
      if (Status s = VerifyReadOnce(o, temp.fd(), copied, leaves, &signals, sys); !s.ok()) {
        return Failed(s);
      }
      if (o.verbose) {
        fprintf(console.out,
                "pcopy: verified against the bytes read from %s (read once: its size is "
                "unknown): XXH3-128 by 1 MiB, DEST read back from storage\n",
                Quote(o.source).c_str());
      }
    }
    outcome.report.bytes = copied;
    outcome.report.method = "read/write by one process";
  } else {
    const CopyPlan plan = MakePlan(src.size, o.jobs, o.chunk_size, o.strategy);
    if (o.verbose) PrintPlan(console.out, plan);
    ExecConfig config;
    config.sys = &sys;
    config.files.push_back(ExecFile{o.source, temp.path(), o.source, o.dest,
                                    FileIdentity{src.dev, src.ino}, temp.identity()});
    config.method =
        ChooseMethod(o, sys, src.fd.get(), temp.fd(), o.verbose ? console.out : nullptr);
    config.buffer_size = o.buffer_size;
    config.bwlimit = o.bwlimit;
    config.slow_factor = o.slow_worker;
    config.retries = o.retries;
    config.stall_timeout = o.stall_timeout;
    std::unique_ptr<ProgressView> view;
    if (auto style = ChooseProgress(o, console)) {
      view = std::make_unique<ProgressView>(*style, console.err, 0);
    }
    ForkExecutor executor;
    ExecResult r = executor.Run(MakeWorkList(plan), config, signals, view.get());
    if (r.signal != 0) return Interrupted(r.signal);
    if (!r.status.ok()) return Failed(r.status);
    // A source truncated during the copy can still let every read succeed (a shrink and regrow,
    // or the zero-filled tail of a mapped page): check its size once more before publishing.
    // A source that grew is copied as it was when opened (its first src.size bytes): the copy
    // is a consistent prefix, and the user is told, since cp would have read on to the end.
    struct stat now;
    if (src.kind == SourceKind::kRegular && fstat(src.fd.get(), &now) == 0) {
      const auto size_now = static_cast<uint64_t>(now.st_size);
      if (size_now < src.size) return Failed(ToStatus(SourceChanged(size_now), o.source, o.dest));
      if (size_now > src.size && !o.quiet) {
        fprintf(console.err,
                "pcopy: warning: %s grew during the copy; copied its first %llu bytes\n",
                Quote(o.source).c_str(), static_cast<unsigned long long>(src.size));
      }
    }
    if (o.verify) {
      uint64_t recopied = 0;
      if (Status s =
              VerifyCopy(o, src, temp.fd(), &recopied, &outcome.report.digest, sys, &signals);
          !s.ok()) {
        return Failed(s);
      }
      if (o.verbose) {
        fprintf(
            console.out,
            "pcopy: verified against %s: XXH3-128 by 1 MiB, DEST read back from storage%s\n",
            Quote(o.source).c_str(),
            recopied == 0 ? "" : (", " + std::to_string(recopied) + " MiB copied again").c_str());
      }
    }
    outcome.report.bytes = src.size;
    outcome.report.workers = plan.workers.size();
    outcome.report.method = DescribeMethod(r, o.buffer_size);
    outcome.report.retried = r.retried;
  }
  if (o.print_digest && outcome.report.digest.empty()) {
    if (Status s =
            DigestCopy(o, temp.fd(), outcome.report.bytes, &signals, &outcome.report.digest);
        !s.ok()) {
      return Failed(s);
    }
  }
  // With --fsync, the data is written out in steps that take signals; Commit's fsync then has
  // little left to wait for.
  if (o.fsync) {
    if (Status s = SyncInSteps(sys, temp.fd(), o.dest, outcome.report.bytes, &signals); !s.ok()) {
      return Failed(s);
    }
  }
  if (signals.Poll() != 0) return Interrupted(signals.terminating_signal());

  CommitOptions commit;
  commit.mode = src.mode & 0777 & ~CurrentUmask();
  commit.fsync = o.fsync;
  commit.no_replace = o.no_clobber;
  bool existed = false;
  if (Status s = temp.Commit(dst.path, commit, &existed); !s.ok()) {
    if (!existed) return Failed(s);
    outcome.report.skipped = true;  // -n: DEST appeared during the copy; it wins
  }
  outcome.report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // A DEST that appeared during the copy and won (-n) is not the file digested.
  if (o.print_digest && !outcome.report.skipped) {
    fprintf(console.out, "%s\n", DigestLine(outcome.report.digest, dst.display).c_str());
  }
  // The copy is complete, but a replaced worker is worth knowing about (a flaky disk, the OOM
  // killer): said on stderr unless -q, like cp's warnings.
  if (!o.quiet) {
    for (const std::string& line : outcome.report.retried) {
      fprintf(console.err, "pcopy: retried: %s\n", line.c_str());
    }
  }
  if (o.verbose) {
    const CopyReport& r = outcome.report;
    fprintf(console.out, "%s -> %s\n", Quote(o.source).c_str(), Quote(r.dest_path).c_str());
    fprintf(console.out, "pcopy: copied %s in %.3f s (%s) with %zu worker%s, method %s%s%s\n",
            FormatBytes(r.bytes).c_str(), r.seconds,
            FormatRate(r.seconds > 0 ? static_cast<double>(r.bytes) / r.seconds : 0).c_str(),
            r.workers, r.workers == 1 ? "" : "s", r.method.c_str(), o.fsync ? ", fsync" : "",
            r.retried.empty() ? ""
                              : (", " + std::to_string(r.retried.size()) + " worker" +
                                 (r.retried.size() == 1 ? "" : "s") + " replaced")
                                    .c_str());
  }
  return outcome;
}

}  // namespace

CopyOutcome RunCopy(const Options& o, SignalGuard& signals, const Console& console,
                    const SysCalls& sys) {
  return RunGuarded([&] { return Copy(o, signals, console, sys); });
}

}  // namespace pcopy
