// metadata.h: what cp's --preserve keeps, and how it is applied to a copy.
//
// PreserveSet says which attributes to keep; ParsePreserveList reads cp's word list into it.
// ApplyMetadata gives a destination the source's owner, extended attributes, mode and times, in
// the order and with the failure rules of GNU cp (see ApplyMetadata). The special files of a
// tree (symlinks, FIFOs, device nodes) are created by special_files.h.
//
// Process contract: everything here is a plain function over a SysCalls that throws nothing out
// and keeps no state, so it runs as well in a forked worker as in the parent. Only
// CurrentMetadataEnv reads process state (the umask) and belongs to the parent, before fork.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string_view>
#include <vector>

#include "base/status.h"
#include "os/file_ref.h"
#include "os/sys_calls.h"

namespace pcopy {

struct PreserveSet {
  bool mode = false;        // permission bits incl. setuid, setgid, sticky; POSIX ACLs
  bool ownership = false;   // owner and group
  bool timestamps = false;  // atime and mtime, to the nanosecond
  bool links = false;       // hard links within the tree: the tree copier's business
  bool xattr = false;       // extended attributes (user.*, trusted.*, security.*)
  // The word "xattr" itself was given (cp's require_preserve_xattr): every extended attribute
  // that cannot be copied is an error. Otherwise (as with "all" or -a) failures for want of
  // support (ENOTSUP, ENODATA) are silent and others are warnings.
  bool xattr_required = false;
};

// Reads cp's comma-separated list ("mode,timestamps", "all") into *set: each word sets its
// attribute to value (true for --preserve, false for --no-preserve). Words are cp's: mode,
// timestamps, ownership, links, context, xattr, all; an unambiguous prefix stands for its word,
// as cp's argmatch allows ("time"). "context" (SELinux labels) is accepted with value false and
// changes nothing; with value true it is an error, since pcopy cannot preserve it (cp refuses
// it likewise on a kernel without SELinux). "all" sets every attribute but not xattr_required,
// and does not include context (again as cp without SELinux). An unknown word is an error:
//   invalid argument 'foo' for '--preserve'; valid arguments are 'mode', ..., 'all'
// *set is changed only when the whole list is valid.
Status ParsePreserveList(std::string_view list, bool value, PreserveSet* set);

// What the calls below need to know about the process, found once by the parent.
struct MetadataEnv {
  mode_t umask = 022;
  // May change a file's owner (euid 0): then a failed chown is an error, as in cp; without it
  // EPERM and EINVAL from chown are expected and silent.
  bool chown_privileged = false;
};
// The umask (read by setting it and back: not thread-safe) and the euid. Parent only.
MetadataEnv CurrentMetadataEnv();

// Gives dst the metadata of src (whose lstat/fstat is src_st), as cp does after a copy, in cp's
// order:
//  1. ownership (set.ownership): fchown/fchownat to src's uid and gid. EPERM or EINVAL without
//     env.chown_privileged is silent: the group alone is then tried (its failure ignored too)
//     and setuid, setgid and sticky are left out of the mode applied below. Any other failure,
//     or any failure with the privilege: "failed to preserve ownership for 'dst': ...".
//     Before the xattrs, since a chown clears security.capability.
//  2. extended attributes (set.xattr): every user.*, trusted.* and security.* name of src, but
//     security.selinux (the "context" pcopy does not keep) and security.evm (the kernel's own).
//     A source that has none, or whose file system has none, is not an error. A failure is an
//     error with set.xattr_required; without it ENOTSUP/ENODATA are silent and anything else is
//     added to *warnings (cp --preserve=all prints those; cp -a hides them: pass nullptr).
//     Messages: "listing attributes of 'src'", "getting attribute 'user.a' of 'src'",
//     "setting attribute 'user.a' for 'dst'". trusted.* needs root to be listed at all.
//  3. mode, skipped for a symlink (Linux has no symlink modes, so cp skips it too).
//     set.mode: src's POSIX ACLs (system.posix_acl_access, and _default for a directory),
//     copied as xattr bytes, then the full mode (07777). Without set.mode: the mode cp gives a
//     new file, src's permission bits less the umask (a directory also keeps its sticky bit,
//     and the setgid bit that mkdir inherited from a setgid parent). A failure:
//     "preserving permissions for 'dst': ...".
//  4. timestamps (set.timestamps), last so nothing above moves them: atime and mtime to the
//     nanosecond, never following a symlink. "preserving times for 'dst': ...".
// For a dst given by descriptor, one fstat first: the chown of step 1 and the chmod of step 3
// are skipped where dst already has that owner and group, or that mode (and no ACL was copied),
// as cp skips them; each costs more than the fstat.
// Failures of steps 1, 3 and 4 are errors, as cp's -a and --preserve make them; the first error
// stops the work. src needs no descriptor unless xattrs or ACLs are copied (a FileRef with
// neither fd nor name skips them). dst must still be writable by its owner (pcopy creates
// temporaries 0600, a tree copier its directories u+rwx): for a file that is not, a non-root
// caller could not set its xattrs. Call it on a regular file after its data is complete (a
// write clears security.capability and setuid), on a directory after everything in it is in
// place (mode last, so a read-only directory can still be filled; times last, since an entry
// created moves them); for a regular file, on the temporary before it is published.
Status ApplyMetadata(const SysCalls& sys, const FileRef& src, const struct stat& src_st,
                     const FileRef& dst, const PreserveSet& set, const MetadataEnv& env,
                     std::vector<Status>* warnings = nullptr);

}  // namespace pcopy
