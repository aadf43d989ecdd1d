// check_job.h: the checking jobs of the command line: --verify inside a copy and --compare A B.
// They stand on verify.h's parallel leaf digests (--checksum and --check: checksum_job.h).
#pragma once

#include <string>
#include <vector>

#include "copy_job.h"
#include "io.h"
#include "options.h"
#include "source_file.h"
#include "verify.h"

namespace pcopy {

// Exit codes of --compare, as cmp(1): 0 identical, 1 different, 2 trouble.
inline constexpr int kCompareDifferent = 1;
inline constexpr int kCompareTrouble = 2;

// --verify: compares the finished temporary with the source, reading the temporary back from
// storage (fdatasync, then POSIX_FADV_DONTNEED drops its cached pages). Leaves that differ are
// copied again once, with pread/pwrite, and checked again; a second difference is an error.
// *recopied counts the leaves copied again; *source_digest is the tree digest of the source.
Status VerifyCopy(const Options& o, const SourceFile& src, int temp_fd, uint64_t* recopied,
                  std::string* source_digest, const SysCalls& sys);

// --verify for a source of unknown size, read once to the end (a /proc file would not give the
// same bytes twice): the temporary, read back from storage, is compared with the leaf digests of
// what was read (`read`, from StreamDigests). A difference is an error; nothing is re-copied.
Status VerifyReadOnce(const Options& o, int temp_fd, uint64_t size,
                      const std::vector<Digest128>& read);

// --compare A B. A file whose size is unknown (procfs, sysfs) or 0 is read to its end, in order.
CopyOutcome RunCompare(const Options& o, const Console& console);

}  // namespace pcopy
