#include "check_job.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "verify.h"

namespace pcopy {
namespace {

// Makes the next reads of fd come from storage: its dirty pages written, its clean ones dropped.
Status DropCachedPages(int fd, const std::string& name) {
  if (fdatasync(fd) != 0) return Status::FromErrno("fdatasync", name, errno);
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  return {};
}

struct Opened {
  UniqueFd fd;
  uint64_t size = 0;
};

Status OpenForReading(const std::string& path, Opened* out) {
  SourceFile f;
  if (Status s = OpenSource(path, &f, SourceUse::kRead); !s.ok()) return s;
  out->fd = std::move(f.fd);
  out->size = f.size;
  return {};
}

// Compares two files of known, non-zero sizes by leaf digests on `jobs` workers, then byte by
// byte within the first leaf that differs. Output as CompareToEnd's.
Status CompareByLeaves(const DigestInput& a, const DigestInput& b, uint64_t size_a, uint64_t size_b,
                       unsigned jobs, bool* found, uint64_t* where, bool* one_ended) {
  const uint64_t common = std::min(size_a, size_b);
  LeafReport report;
  if (Status s = DigestLeaves(a, b, common, jobs, {}, &report); !s.ok()) return s;
  bool in_leaf = false;
  *where = common;
  if (!report.differing.empty()) {
    const uint64_t offset = report.differing.front() * kLeafSize;
    if (Status s =
            FirstDifference(a, b, offset, std::min(kLeafSize, common - offset), &in_leaf, where);
        !s.ok()) {
      return s;
    }
  }
  *one_ended = !in_leaf && size_a != size_b;
  *found = in_leaf || *one_ended;
  return {};
}

// "bytes 1048576-2097151": leaf `leaf` of a file of `size` bytes.
std::string LeafBytes(uint64_t leaf, uint64_t size) {
  const uint64_t offset = leaf * kLeafSize;
  return "bytes " + std::to_string(offset) + "-" +
         std::to_string(std::min(offset + kLeafSize, size) - 1);
}

}  // namespace

Status VerifyCopy(const Options& o, const SourceFile& src, int temp_fd, uint64_t* recopied,
                  std::string* source_digest, const SysCalls& sys) {
  *recopied = 0;
  const DigestInput a{src.fd.get(), o.source}, b{temp_fd, o.dest};
  if (Status s = DropCachedPages(temp_fd, o.dest); !s.ok()) return s;
  LeafReport report;
  if (Status s = DigestLeaves(a, b, src.size, o.jobs, {}, &report); !s.ok()) return s;
  *source_digest = TreeDigest(report.digests);
  if (report.differing.empty()) return {};

  // Copy the differing leaves once more, then read them back from storage again.
  std::vector<char> buffer(static_cast<size_t>(o.buffer_size));
  CopyEnv env;
  env.sys = &sys;
  env.src_fd = src.fd.get();
  env.dst_fd = temp_fd;
  env.src_name = o.source;
  env.dst_name = o.dest;
  env.buffer = std::span<char>(buffer.data(), buffer.size());
  class NoProgress final : public ProgressSink {
    void Add(uint64_t) override {}
  } none;
  for (uint64_t leaf : report.differing) {
    const uint64_t offset = leaf * kLeafSize;
    const uint64_t length = std::min(kLeafSize, src.size - offset);
    if (Status s = CopyRangeReadWrite(env, offset, length, none); !s.ok()) return s;
  }
  *recopied = report.differing.size();
  if (Status s = DropCachedPages(temp_fd, o.dest); !s.ok()) return s;
  LeafReport again;
  if (Status s = DigestLeaves(a, b, src.size, o.jobs, report.differing, &again); !s.ok()) return s;
  if (!again.differing.empty()) {
    const uint64_t leaf = again.differing.front();
    return Status::Failure(
        "verify", o.dest,
        LeafBytes(leaf, src.size) + " still differ from " + Quote(o.source) + " after a re-copy",
        leaf * kLeafSize);
  }
  return {};
}

Status VerifyReadOnce(const Options& o, int temp_fd, uint64_t size,
                      const std::vector<Digest128>& read) {
  if (size == 0) return {};
  if (Status s = DropCachedPages(temp_fd, o.dest); !s.ok()) return s;
  LeafReport report;
  if (Status s = DigestLeaves({temp_fd, o.dest}, {}, size, o.jobs, {}, &report); !s.ok()) {
    return s;
  }
  for (uint64_t leaf = 0; leaf < report.digests.size(); ++leaf) {
    if (leaf >= read.size() || !(report.digests[leaf] == read[leaf])) {
      return Status::Failure(
          "verify", o.dest,
          LeafBytes(leaf, size) + " differ from what was read from " + Quote(o.source),
          leaf * kLeafSize);
    }
  }
  return {};
}

namespace {

CopyOutcome Compare(const Options& o, const Console& console) {
  Opened a, b;
  if (Status s = OpenForReading(o.source, &a); !s.ok()) return {s, kCompareTrouble, {}};
  if (Status s = OpenForReading(o.dest, &b); !s.ok()) return {s, kCompareTrouble, {}};
  const DigestInput da{a.fd.get(), o.source}, db{b.fd.get(), o.dest};
  bool found = false, one_ended = false;
  uint64_t where = 0;
  // A size of 0 may be unknown (procfs, sysfs): then both are read to the end, in order, as cmp
  // reads them.
  if (Status s = a.size == 0 || b.size == 0
                     ? CompareToEnd(da, db, &found, &where, &one_ended)
                     : CompareByLeaves(da, db, a.size, b.size, o.jobs, &found, &where, &one_ended);
      !s.ok()) {
    return {s, kCompareTrouble, {}};
  }
  if (!found) {
    if (o.verbose) {
      fprintf(console.out, "%s and %s are identical (%llu bytes)\n", Quote(o.source).c_str(),
              Quote(o.dest).c_str(), static_cast<unsigned long long>(where));
    }
    return {};
  }
  if (!o.quiet) {
    fprintf(console.out, "%s %s differ: first difference at byte offset %llu%s\n",
            Quote(o.source).c_str(), Quote(o.dest).c_str(), static_cast<unsigned long long>(where),
            one_ended ? " (one file is shorter)" : "");
  }
  return {{}, kCompareDifferent, {}};
}

}  // namespace

CopyOutcome RunCompare(const Options& o, const Console& console) {
  CopyOutcome outcome = RunGuarded([&] { return Compare(o, console); });
  // Trouble, as cmp's exit 2, whatever went wrong.
  if (!outcome.status.ok()) outcome.exit_code = kCompareTrouble;
  return outcome;
}

}  // namespace pcopy
