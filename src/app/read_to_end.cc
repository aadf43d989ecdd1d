#include "app/read_to_end.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "app/stream_progress.h"
#include "app/verify_copy.h"
#include "base/program_name.h"
#include "copy/digest.h"
#include "copy/io.h"
#include "os/stream_io.h"

namespace pcopy {
namespace {

// A source whose size is unknown (procfs reports 0) or zero: read to the end in this process.
Status CopyToEnd(const SysCalls& sys, const SourceFile& src, const std::string& src_name,
                 int dst_fd, const std::string& dst_name, uint64_t buffer_size,
                 SignalGuard& signals, StreamDigests* digests, StreamProgress& progress,
                 uint64_t* copied) {
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
    progress.Tick(offset);
  }
  *copied = offset;
  return {};
}

// Standard input ('-'): read from where it stands (os/stream_io.h), every wait the guard's, so a
// silent pipe or terminal still takes Ctrl-C.
Status CopyStream(const SysCalls& sys, const SourceFile& src, const std::string& src_name,
                  int dst_fd, const std::string& dst_name, uint64_t buffer_size,
                  SignalGuard& signals, StreamDigests* digests, StreamProgress& progress,
                  uint64_t* copied) {
  std::unique_ptr<char[]> buffer(new char[buffer_size]);
  uint64_t offset = 0;
  const Status s = ReadStream(
      src.fd.get(), src_name, &signals, {buffer.get(), buffer_size},
      [&](const char* data, size_t n) -> Status {
        if (IoError e = WriteFull(sys, dst_fd, IoFile::kDest, data, n, offset); !e.ok()) {
          return ToStatus(e, src_name, dst_name);
        }
        if (digests != nullptr) digests->Update(data, n);
        offset += n;
        progress.Tick(offset);
        return {};
      },
      [&] { progress.Tick(offset); });  // a stall: the time runs on, the rate falls
  *copied = offset;
  return s;
}

}  // namespace

Status CopyReadToEnd(const Options& o, const SysCalls& sys, const SourceFile& src, int temp_fd,
                     SignalGuard& signals, FILE* out, CopyReport* report, ProgressObserver* view) {
  const bool stream = src.kind == SourceKind::kStream;
  if (o.verbose) {
    fprintf(out, "%s: %s: reading to the end\n", ProgramName(),
            stream ? "standard input" : "size unknown or 0");
  }
  uint64_t copied = 0;
  StreamDigests read;
  const bool digest = o.verify || o.print_digest;
  const auto copy = stream ? CopyStream : CopyToEnd;
  const uint64_t buffer = stream ? std::max(o.buffer_size, kMinStreamBuffer) : o.buffer_size;
  StreamProgress progress(view, 0);
  const Status done = copy(sys, src, o.source, temp_fd, o.dest, buffer, signals,
                           digest ? &read : nullptr, progress, &copied);
  const bool interrupted = done.signal() != 0 || signals.terminating_signal() != 0;
  progress.Finish(copied, done.ok() && !interrupted, interrupted);
  if (!done.ok()) return done;
  // CopyToEnd stops early on a signal: nothing partial is worth verifying.
  if (signals.terminating_signal() != 0) {
    return Status::Interrupted(signals.terminating_signal(), "DEST left untouched");
  }
  const std::vector<Digest128>& leaves = read.Finish();
  if (digest) report->digest = TreeDigest(leaves);
  report->bytes = copied;
  report->method = "read/write in order";
  if (!o.verify) return {};
  if (Status s = VerifyReadOnce(o, temp_fd, copied, leaves, &signals, sys, view); !s.ok()) return s;
  if (o.verbose) {
    fprintf(out,
            "%s: verified against the bytes read from %s (read once: %s): "
            "XXH3-128 by 1 MiB, DEST read back from storage\n",
            ProgramName(), Quote(o.source).c_str(),
            stream ? "standard input" : "its size is unknown");
  }
  return {};
}

}  // namespace pcopy
