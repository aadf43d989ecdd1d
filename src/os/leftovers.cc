#include "os/leftovers.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <ctime>

#include "os/remove_tree.h"

namespace pcopy {
namespace {

constexpr std::string_view kPrefix = ".pcopy-";
constexpr std::string_view kSuffix = ".tmp";
constexpr size_t kHexDigits = 12;

std::string RandomHex() {
  uint64_t r = 0;
  if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r) {
    r = static_cast<uint64_t>(getpid()) * 0x9E3779B97F4A7C15ull ^
        static_cast<uint64_t>(time(nullptr));
  }
  char buf[24];
  snprintf(buf, sizeof buf, "%012llx", static_cast<unsigned long long>(r & 0xFFFFFFFFFFFFull));
  return buf;
}

bool ProcessGone(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

}  // namespace

std::string HostForNames() {
  char raw[256] = {};
  if (gethostname(raw, sizeof raw - 1) != 0 || raw[0] == '\0') return "localhost";
  std::string host;
  for (const char* p = raw; *p != '\0' && host.size() < 64; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    host += std::isalnum(c) || c == '.' || c == '_' ? static_cast<char>(c) : '_';
  }
  return host;
}

std::string TemporaryName() {
  return std::string(kPrefix) + HostForNames() + "-" + std::to_string(getpid()) + "-" +
         RandomHex() + std::string(kSuffix);
}

bool ParseTemporaryName(std::string_view name, TemporaryOwner* owner) {
  if (name.size() <= kPrefix.size() + kSuffix.size() || name.substr(0, kPrefix.size()) != kPrefix ||
      name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return false;
  }
  std::string_view middle =
      name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  // <host>-<pid>-<hex>: the host may not contain '-', so split at the last two.
  const size_t hex_dash = middle.rfind('-');
  if (hex_dash == std::string_view::npos || middle.size() - hex_dash - 1 != kHexDigits)
    return false;
  for (char c : middle.substr(hex_dash + 1)) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  const size_t pid_dash = middle.rfind('-', hex_dash - 1);
  if (pid_dash == std::string_view::npos || pid_dash == 0) return false;
  const std::string_view pid_text = middle.substr(pid_dash + 1, hex_dash - pid_dash - 1);
  if (pid_text.empty() || pid_text.size() > 9) return false;
  pid_t pid = 0;
  for (char c : pid_text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    pid = pid * 10 + (c - '0');
  }
  if (pid <= 0) return false;
  owner->host = std::string(middle.substr(0, pid_dash));
  owner->pid = pid;
  return true;
}

std::vector<std::string> RemoveLeftovers(const std::string& dir, const SysCalls& sys) {
  std::vector<std::string> removed;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return removed;
  const std::string host = HostForNames();
  while (dirent* e = readdir(d)) {
    TemporaryOwner owner;
    if (!ParseTemporaryName(e->d_name, &owner) || owner.host != host || owner.pid == getpid() ||
        !ProcessGone(owner.pid)) {
      continue;
    }
    struct stat st;
    if (sys.fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) || st.st_uid != geteuid()) {
      continue;
    }
    // A directory is a dead tree copy's hidden tree: removed whole.
    const bool gone = S_ISDIR(st.st_mode) ? RemoveTree(sys, dirfd(d), e->d_name, e->d_name).ok()
                                          : sys.unlinkat(dirfd(d), e->d_name, 0) == 0;
    if (gone) removed.emplace_back(e->d_name);
  }
  closedir(d);
  return removed;
}

}  // namespace pcopy
