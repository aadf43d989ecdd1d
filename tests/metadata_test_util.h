// metadata_test_util.h: what the metadata tests share: stat without following, times and
// POSIX ACLs set by hand, the xattrs of a file as a map, and a round of ApplyMetadata between
// two paths through the real kernel.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "os/metadata.h"

namespace pcopy::test {

// lstat(path); a failure fails the test and gives a zeroed stat.
struct stat Lstat(const std::string& path);
// Sets atime and mtime of path (of a symlink itself, not its target).
void SetTimes(const std::string& path, struct timespec atime, struct timespec mtime);
bool SameTime(const struct timespec& a, const struct timespec& b);

// The extended attributes of path itself (not following a symlink): name to value. Only names
// a user of this euid can list (trusted.* needs root).
std::map<std::string, std::string> Xattrs(const std::string& path);
// lsetxattr; returns 0 or the errno.
int SetXattr(const std::string& path, const std::string& name, const std::string& value);
// A system.posix_acl_access (or _default) value as the kernel stores it: user::rwx, a named
// user uid with perms, group::r-x, mask::rwx, other::r--.
std::string AclBytes(uint32_t uid, uint16_t perms);

// ApplyMetadata from src to dst, both opened read-only (a file or a directory), with env.
Status ApplyBetween(const std::string& src, const std::string& dst, const PreserveSet& set,
                    const MetadataEnv& env = MetadataEnv{},
                    std::vector<Status>* warnings = nullptr);

}  // namespace pcopy::test
