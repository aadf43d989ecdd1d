// special_files.h: the entries of a tree that are neither regular files nor directories:
// symlinks, FIFOs and device nodes, recreated at a destination name as cp -a does. Sockets are
// not recreated (cp cannot either): the tree copier skips them with a warning.
//
// Process contract: plain functions over a SysCalls, safe in a forked worker or the parent. The
// new entry gets no metadata beyond what creating it gives; call ApplyMetadata (metadata.h) on
// it with FileRef::At right after.
#pragma once

#include <sys/stat.h>

#include <string>

#include "base/status.h"
#include "os/file_ref.h"
#include "os/sys_calls.h"

namespace pcopy {

// The longest symlink target read (1 MiB): far above PATH_MAX, which some file systems (FUSE,
// network ones) exceed; a longer one fails with ENAMETOOLONG rather than grow without bound.
inline constexpr size_t kMaxSymlinkTarget = size_t{1} << 20;

// The target of the symlink link (a FileRef::At), byte for byte: any bytes but NUL, of any
// length up to kMaxSymlinkTarget. size_hint (lstat's st_size; 0 if unknown, as /proc gives)
// sizes the first buffer; the buffer doubles while the target fills it. Error:
// "cannot read symbolic link 'src': ...".
Status ReadSymlink(const SysCalls& sys, const FileRef& link, size_t size_hint, std::string* target);

// Creates dst (a FileRef::At) as a symlink with src's exact target. Errors: ReadSymlink's, and
// "cannot create symbolic link 'dst': ..." (EEXIST if dst exists: it is never replaced).
Status CopySymlink(const SysCalls& sys, const FileRef& src, size_t size_hint, const FileRef& dst);

// Creates dst (a FileRef::At) as a FIFO (mkfifoat) or a character or block device with src_st's
// st_rdev (mknodat, which needs CAP_MKNOD), with only src_st's owner permission bits, so no one
// else can open it before ApplyMetadata sets the final mode and owner. Errors:
// "cannot create fifo 'dst': ...", "cannot create special file 'dst': ..." (EPERM without
// root); for any other type (a socket, a regular file): "cannot create special file 'dst': not
// a FIFO or a device".
Status MakeSpecial(const SysCalls& sys, const struct stat& src_st, const FileRef& dst);

}  // namespace pcopy
