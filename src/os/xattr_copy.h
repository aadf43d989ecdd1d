// xattr_copy.h: copying extended attributes, and the POSIX ACLs the kernel keeps as
// system.posix_acl_* attributes, from one file to another through the SysCalls seam. These are
// steps 2 and 3 of ApplyMetadata (metadata.h), whose contract they follow; they stand alone so
// each can be read and tested by itself.
//
// Process contract: plain functions, safe in a forked worker; the buffers are the only
// allocation, and only for lists or values over 1 KiB.
#pragma once

#include <string_view>
#include <vector>

#include "base/status.h"
#include "os/file_ref.h"
#include "os/sys_calls.h"

namespace pcopy {

// The names --preserve=xattr copies: user.*, trusted.*, security.* except security.selinux and
// security.evm. ACLs (system.*) are the mode's, as cp's /etc/xattr.conf says.
bool IsCopiedXattr(std::string_view name);

// Copies every IsCopiedXattr name of src to dst. A source without xattrs, or on a file system
// without them (ENOTSUP listing it), copies nothing and succeeds; a name gone between listing
// and reading it (ENODATA) is skipped. Other failures: with required, the first is returned and
// nothing more is copied; without it, ENOTSUP and ENODATA are silent and the rest are appended
// to *warnings (when not null) while the copy goes on.
Status CopyXattrs(const SysCalls& sys, const FileRef& src, const FileRef& dst, bool required,
                  std::vector<Status>* warnings);

// Copies src's access ACL, and for a directory its default ACL, to dst. A source without one
// (ENODATA, or ENOTSUP on its file system) copies nothing: the mode says it all. Errors:
// "getting attribute 'system.posix_acl_access' of 'src': ...",
// "preserving permissions for 'dst': ..." (ENOTSUP if dst's file system has no ACLs).
// *copied (when not null): whether an ACL was set, which may have changed dst's mode.
Status CopyAcls(const SysCalls& sys, const FileRef& src, const FileRef& dst, bool directory,
                bool* copied = nullptr);

}  // namespace pcopy
