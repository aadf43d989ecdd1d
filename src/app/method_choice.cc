#include "app/method_choice.h"

#include <sys/stat.h>

#include <algorithm>

#include "base/program_name.h"
#include "base/size_parse.h"
#include "os/file_system.h"

namespace pcopy {
namespace {

// The option that rules copy_file_range out of --method auto, in words; nullptr if none does.
const char* PreadRequiredBy(const Options& o) {
  if (o.sparse == SparseMode::kAlways) return "--sparse=always looks at every block";
  if (o.reflink == ReflinkMode::kNever) return "--reflink=never: copy_file_range may share extents";
  return nullptr;
}

// "pread/pwrite with 32.00 KiB buffers", or how the write size is tuned.
std::string PreadWords(const Options& o, const char* untuned) {
  const std::string fixed = "pread/pwrite with " + FormatBytes(o.buffer_size) + " buffers";
  if (!TunesWriteSize(o)) return fixed;
  if (untuned != nullptr) return fixed + ", not tuned: " + untuned;
  if (o.recursive) {
    return "pread/pwrite, each worker timing the chunks of large files to choose writes of " +
           FormatBytes(o.buffer_size) + " to " + FormatBytes(kMaxTunedWriteSize) + " (" +
           FormatBytes(o.buffer_size) + " for other files)";
  }
  return "pread/pwrite, each worker timing its chunks to choose writes of " +
         FormatBytes(o.buffer_size) + " to " + FormatBytes(kMaxTunedWriteSize);
}

}  // namespace

bool TunesWriteSize(const Options& o) {
  return o.method == Method::kAuto && !o.buffer_size_given && o.bwlimit == 0;
}

const char* UntunedBecause(const Options& o, double cached_fraction, uint64_t data) {
  if (!TunesWriteSize(o)) return nullptr;
  if (cached_fraction < kHotSourceShare)
    return "SOURCE is mostly on storage, reading sets the pace";
  if (data > kMaxTunedCopy) return "over 2 GiB of data, where larger writes early slowed the rest";
  return nullptr;
}

// --method auto. copy_file_range only where it can share extents or copy on the server: there it
// moves no bytes at all (a reflink) or none through this machine. Everywhere else the kernel
// copies through the page cache in writes as large as the call, and large writes into a new file
// make ext4 allocate large folios, which on a virtual machine intermittently stall:
// 4 GiB copies took 2.5-4 s in 7 runs of 10 against 1.1 s in the others, while 32 KiB
// pread/pwrite never did (README "Defaults"). Across file system types the kernel would only
// answer EXDEV.
// --reflink=never and --sparse=always keep auto on pread: copy_file_range may share extents,
// which never forbids, and it moves bytes that always must look at.
Method ChooseMethod(const Options& o, const SysCalls& sys, int src_fd, int dst_fd, FILE* verbose,
                    const char* untuned) {
  if (o.method != Method::kAuto) return o.method;
  // A device's descriptor reports the file system of /dev, not one that could share extents.
  struct stat dst_st;
  if (sys.fstat(dst_fd, &dst_st) == 0 && S_ISBLK(dst_st.st_mode)) {
    if (verbose != nullptr) {
      fprintf(verbose, "%s: method auto: DEST is a block device: %s\n", ProgramName(),
              PreadWords(o, untuned).c_str());
    }
    return Method::kPread;
  }
  if (const char* why = PreadRequiredBy(o)) {
    if (verbose != nullptr) {
      fprintf(verbose, "%s: method auto: %s (%s)\n", ProgramName(), PreadWords(o, untuned).c_str(),
              why);
    }
    return Method::kPread;
  }
  const std::optional<FileSystemType> src = FileSystemOf(sys, src_fd),
                                      dst = FileSystemOf(sys, dst_fd);
  const bool same_type = src && dst && src->magic == dst->magic;
  const bool shares = same_type && src->shares_extents;
  if (verbose != nullptr) {
    std::string why;
    if (shares) {
      why = "copy_file_range (";
      why.append(src->name).append(
          " can share extents or copy on the server), with pread/pwrite as fallback");
    } else {
      why = PreadWords(o, untuned);
      why.append(same_type ? " (copy_file_range cannot share extents on "
                           : " (copy_file_range cannot cross file system types")
          .append(same_type ? src->name : "")
          .append(")");
    }
    fprintf(verbose, "%s: method auto: SOURCE on %s, DEST on %s: %s\n", ProgramName(),
            src ? src->name : "unknown", dst ? dst->name : "unknown", why.c_str());
  }
  return shares ? Method::kCopyFileRangeOrPread : Method::kPread;
}

bool WritesEveryByte(const Options& o, const SysCalls& sys, int src_fd, const std::string& dir) {
  if (o.method != Method::kAuto && o.method != Method::kCopyFileRange &&
      o.method != Method::kCopyFileRangeOrPread) {
    return true;
  }
  if (o.method == Method::kAuto && PreadRequiredBy(o) != nullptr) return true;
  const std::optional<FileSystemType> src = FileSystemOf(sys, src_fd);
  struct statfs dst;
  if (!src || sys.statfs(dir.c_str(), &dst) != 0) return true;
  return !src->shares_extents || src->magic != static_cast<unsigned long>(dst.f_type);
}

double CachedFraction(const std::optional<CacheShare>& cached, uint64_t data) {
  if (!cached || data == 0) return 1;
  return std::min(1.0, static_cast<double>(cached->cached) / static_cast<double>(data));
}

uint64_t ColdReadAhead(const Options& o, double cached_fraction) {
  if (o.method != Method::kAuto || cached_fraction >= kHotSourceShare) return 0;
  return kColdReadAheadChunks * o.chunk_size;
}

}  // namespace pcopy
