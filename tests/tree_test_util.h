// tree_test_util.h: building directory trees for tests and comparing two trees entry by entry.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pcopy::test {

struct TreeCompare {
  bool mode = false;   // permission bits (incl. setuid, sticky) equal
  bool times = false;  // mtime equal to the nanosecond (atime is not compared: reads change it)
  bool owner = false;  // uid and gid equal
};

// The differences between trees a and b, one line each ("a/x: missing in b", "a/y: bytes
// differ", ...); empty when they match. Types, sizes, bytes, symlink targets always; the rest as
// asked. Does not follow symlinks.
std::vector<std::string> TreeDifferences(const std::string& a, const std::string& b,
                                         const TreeCompare& compare = {});

// The names in dir (not . and ..), sorted.
std::vector<std::string> DirNames(const std::string& dir);

// Every path under root (relative, sorted), directories included.
std::vector<std::string> TreeListing(const std::string& root);

// A small varied tree under root: nested directories, empty and non-empty files of several
// sizes (one of large_size bytes if it is not 0), an empty directory, a symlink, modes and old
// mtimes that differ from the defaults.
void MakeSampleTree(const std::string& root, uint64_t large_size = 0);

// Sets path's atime and mtime (seconds and nanoseconds) without following a symlink.
void SetTimes(const std::string& path, int64_t sec, long nsec);

}  // namespace pcopy::test

namespace pcopy::test {

// The bytes allocated on storage by everything under dir (st_blocks), to tell how far a copy
// has got.
uint64_t TreeAllocatedBytes(const std::string& dir);

}  // namespace pcopy::test
