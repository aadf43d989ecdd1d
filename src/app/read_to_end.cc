#include "app/read_to_end.h"

#include <memory>
#include <vector>

#include "app/verify_copy.h"
#include "base/program_name.h"
#include "copy/digest.h"
#include "copy/io.h"

namespace pcopy {
namespace {

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

}  // namespace

Status CopyReadToEnd(const Options& o, const SysCalls& sys, const SourceFile& src, int temp_fd,
                     SignalGuard& signals, FILE* out, CopyReport* report) {
  if (o.verbose) fprintf(out, "%s: size unknown or 0: reading to the end\n", ProgramName());
  uint64_t copied = 0;
  StreamDigests read;
  const bool digest = o.verify || o.print_digest;
  if (Status s = CopyToEnd(sys, src, o.source, temp_fd, o.dest, o.buffer_size, signals,
                           digest ? &read : nullptr, &copied);
      !s.ok()) {
    return s;
  }
  // CopyToEnd stops early on a signal: nothing partial is worth verifying.
  if (signals.terminating_signal() != 0) {
    return Status::Interrupted(signals.terminating_signal(), "DEST left untouched");
  }
  const std::vector<Digest128>& leaves = read.Finish();
  if (digest) report->digest = TreeDigest(leaves);
  report->bytes = copied;
  report->method = "read/write by one process";
  if (!o.verify) return {};
  if (Status s = VerifyReadOnce(o, temp_fd, copied, leaves, &signals, sys); !s.ok()) return s;
  if (o.verbose) {
    fprintf(out,
            "%s: verified against the bytes read from %s (read once: its size is unknown): "
            "XXH3-128 by 1 MiB, DEST read back from storage\n",
            ProgramName(), Quote(o.source).c_str());
  }
  return {};
}

}  // namespace pcopy
