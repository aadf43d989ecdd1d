#include "tree_test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "test_util.h"

namespace pcopy::test {
namespace {}  // namespace

std::vector<std::string> DirNames(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

std::string LinkTarget(const std::string& path) {
  char buf[8192];
  const ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

void CompareEntry(const std::string& a, const std::string& b, const TreeCompare& c,
                  std::vector<std::string>* out) {
  struct stat sa, sb;
  if (lstat(b.c_str(), &sb) != 0) {
    out->push_back(a + ": missing in the copy");
    return;
  }
  lstat(a.c_str(), &sa);
  if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT)) {
    out->push_back(a + ": type differs");
    return;
  }
  if (c.mode && !S_ISLNK(sa.st_mode) && (sa.st_mode & 07777) != (sb.st_mode & 07777)) {
    char text[64];
    snprintf(text, sizeof text, ": mode %o, copy %o", sa.st_mode & 07777, sb.st_mode & 07777);
    out->push_back(a + text);
  }
  if (c.times &&
      (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec || sa.st_mtim.tv_nsec != sb.st_mtim.tv_nsec)) {
    out->push_back(a + ": mtime differs");
  }
  if (c.owner && (sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid)) {
    out->push_back(a + ": owner differs");
  }
  if (S_ISREG(sa.st_mode) && !SameBytes(a, b)) out->push_back(a + ": bytes differ");
  if (S_ISLNK(sa.st_mode) && LinkTarget(a) != LinkTarget(b)) {
    out->push_back(a + ": link target differs");
  }
  if ((S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode)) && sa.st_rdev != sb.st_rdev) {
    out->push_back(a + ": device number differs");
  }
}

}  // namespace

std::vector<std::string> TreeDifferences(const std::string& a, const std::string& b,
                                         const TreeCompare& compare) {
  std::vector<std::string> out;
  std::function<void(const std::string&, const std::string&)> walk = [&](const std::string& x,
                                                                         const std::string& y) {
    CompareEntry(x, y, compare, &out);
    struct stat st;
    if (lstat(x.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
    const std::vector<std::string> nx = DirNames(x), ny = DirNames(y);
    for (const std::string& n : ny) {
      if (!std::binary_search(nx.begin(), nx.end(), n)) out.push_back(y + "/" + n + ": extra");
    }
    for (const std::string& n : nx) walk(x + "/" + n, y + "/" + n);
  };
  walk(a, b);
  return out;
}

std::vector<std::string> TreeListing(const std::string& root) {
  std::vector<std::string> out;
  std::function<void(const std::string&)> walk = [&](const std::string& rel) {
    const std::string dir = rel.empty() ? root : root + "/" + rel;
    for (const std::string& n : DirNames(dir)) {
      const std::string r = rel.empty() ? n : rel + "/" + n;
      out.push_back(r);
      struct stat st;
      if (lstat((root + "/" + r).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) walk(r);
    }
  };
  walk("");
  std::sort(out.begin(), out.end());
  return out;
}

void SetTimes(const std::string& path, int64_t sec, long nsec) {
  const timespec t[2] = {{sec, nsec}, {sec, nsec}};
  utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW);
}

void MakeSampleTree(const std::string& root, uint64_t large_size) {
  mkdir(root.c_str(), 0755);
  for (const char* d : {"a", "a/b", "a/b/c", "empty", "ro"}) mkdir((root + "/" + d).c_str(), 0755);
  WriteFile(root + "/top.txt", "top\n");
  WriteFile(root + "/a/zero", "");
  MakeRandomFile(root + "/a/small", 3000, 2);
  MakeRandomFile(root + "/a/b/page", 4096, 3);
  MakeRandomFile(root + "/a/b/c/odd", 1 << 20 | 7, 4);
  MakeRandomFile(root + "/ro/file", 10000, 5);
  if (large_size != 0) MakeRandomFile(root + "/a/large", large_size, 6);
  symlink("../top.txt", (root + "/a/link").c_str());
  chmod((root + "/a/small").c_str(), 0640);
  chmod((root + "/ro/file").c_str(), 0444);
  chmod((root + "/a/b").c_str(), 0750);
  chmod((root + "/ro").c_str(), 0555);
  SetTimes(root + "/a/small", 1000000000, 123456789);
  SetTimes(root + "/a/b/page", 1100000000, 1);
  SetTimes(root + "/a/b/c", 1200000000, 999999999);
  SetTimes(root + "/a/b", 1300000000, 5);
  SetTimes(root + "/ro", 1400000000, 0);
}

}  // namespace pcopy::test

namespace pcopy::test {

uint64_t TreeAllocatedBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const std::string& rel : TreeListing(dir)) {
    struct stat st;
    if (lstat((dir + "/" + rel).c_str(), &st) == 0)
      total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

}  // namespace pcopy::test
