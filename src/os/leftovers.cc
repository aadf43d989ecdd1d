#include "os/leftovers.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "base/program_name.h"
#include "base/status.h"
#include "os/remove_tree.h"

namespace pcopy {
namespace {

constexpr std::string_view kPrefix = ".pcopy-";
constexpr std::string_view kSuffix = ".tmp";
constexpr size_t kHexDigits = 12;
constexpr std::string_view kPartialPrefix = ".pcopy-partial-";
constexpr std::string_view kJournalSuffix = ".journal";
constexpr std::string_view kDataSuffix = ".data";
constexpr std::string_view kTreeSuffix = ".tree";

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

// d's entry name opened to be locked: a directory read-only; a file read-write where it can be
// (NFS takes flock as a POSIX write lock, which needs write mode), read-only where its mode
// forbids writing (its final mode, given just before a killed run's rename).
int OpenToLock(const SysCalls& sys, DIR* d, const char* name, bool dir) {
  constexpr int kFlags = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  if (dir) return sys.openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | kFlags, 0);
  const int fd = sys.openat(dirfd(d), name, O_RDWR | kFlags, 0);
  return fd >= 0 || errno != EACCES ? fd : sys.openat(dirfd(d), name, O_RDONLY | kFlags, 0);
}

// Takes fd's lock if it is free. Refused with EWOULDBLOCK: a live owner holds it (true).
// Unsupported (ENOLCK, EOPNOTSUPP; EBADF from NFS on a read-only descriptor): no owner can hold
// it either, and the caller's other tests decide (false).
bool LockHeld(const SysCalls& sys, int fd) {
  return sys.flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

bool HasPartialName(std::string_view n, std::string_view suffix) {
  return n.size() > kPartialPrefix.size() + suffix.size() &&
         n.substr(0, kPartialPrefix.size()) == kPartialPrefix &&
         n.substr(n.size() - suffix.size()) == suffix;
}

// A partial copy whose journal `name` (in d) is past kPartialLifetime and unlocked: both removed;
// a partial tree `name` past it and unlocked: removed whole.
void RemoveOldPartial(const SysCalls& sys, DIR* d, const char* name,
                      std::vector<std::string>* removed) {
  const std::string_view n(name);
  const bool tree = HasPartialName(n, kTreeSuffix);
  if (!tree && !HasPartialName(n, kJournalSuffix)) return;
  struct stat st;
  if (sys.fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
      !(tree ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)) || st.st_uid != geteuid() ||
      time(nullptr) - st.st_mtime < kPartialLifetime) {
    return;
  }
  const int fd = OpenToLock(sys, d, name, tree);
  if (fd < 0) return;
  if (!LockHeld(sys, fd)) {
    if (tree) {
      if (RemoveTree(sys, dirfd(d), name, name).ok()) removed->emplace_back(name);
    } else {
      const std::string data =
          std::string(n.substr(0, n.size() - kJournalSuffix.size())) + std::string(kDataSuffix);
      if (sys.unlinkat(dirfd(d), data.c_str(), 0) == 0) removed->push_back(data);
      if (sys.unlinkat(dirfd(d), name, 0) == 0) removed->emplace_back(name);
    }
  }
  sys.close(fd);
}

// Whether a temporary's owner is surely gone: this host's process no longer exists, or another
// host's temporary has been idle IdleLifetime(). Idle by its ctime, which every write, touch,
// chmod and link moves and nothing sets back (-p sets the mtime to SOURCE's before the rename).
bool OwnerGone(const TemporaryOwner& owner, const std::string& host, const struct stat& st) {
  if (owner.host == host) return owner.pid != getpid() && ProcessGone(owner.pid);
  // The precise clock: time() reads a coarse one that can lag a ctime just set by up to a tick,
  // so a file changed this instant could look changed in the future (LeftoversTest saw it).
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return now.tv_sec - st.st_ctim.tv_sec >= IdleLifetime();
}

// Removes d's entry `name` if it is a temporary (leftovers.h) whose owner is gone and whose lock
// is free; held while it is removed, so that nobody adopts it meanwhile.
void RemoveTemporary(const SysCalls& sys, DIR* d, const char* name, const std::string& host,
                     std::vector<std::string>* removed) {
  TemporaryOwner owner;
  struct stat st;
  if (!ParseTemporaryName(name, &owner) ||
      sys.fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
      !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) || st.st_uid != geteuid() ||
      !OwnerGone(owner, host, st)) {
    return;
  }
  const bool dir = S_ISDIR(st.st_mode);
  const int fd = OpenToLock(sys, d, name, dir);
  if (fd < 0) return;
  struct stat opened;
  const bool same =
      sys.fstat(fd, &opened) == 0 && opened.st_dev == st.st_dev && opened.st_ino == st.st_ino;
  if (same && !LockHeld(sys, fd) &&
      (dir ? RemoveTree(sys, dirfd(d), name, name).ok() : sys.unlinkat(dirfd(d), name, 0) == 0)) {
    removed->emplace_back(name);
  }
  sys.close(fd);
}

}  // namespace

bool Heartbeat::Due() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < every_) return false;
  last_ = now;
  return true;
}

void LockTemporary(const SysCalls& sys, int fd) { (void)sys.flock(fd, LOCK_EX | LOCK_NB); }

long IdleLifetime() {
  const char* text = getenv("PCOPY_IDLE_LIFETIME");
  if (text == nullptr || *text == '\0' || strlen(text) > 9 ||
      strspn(text, "0123456789") != strlen(text)) {
    return kIdleLifetime;
  }
  return atol(text);
}

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

PartialNames PartialNamesFor(std::string_view dest_name) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a: a name, not a secret
  for (char c : dest_name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  char hex[24];
  snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  const std::string stem = std::string(kPartialPrefix) + hex;
  return PartialNames{stem + std::string(kDataSuffix), stem + std::string(kJournalSuffix),
                      stem + std::string(kTreeSuffix)};
}

std::vector<std::string> RemoveLeftovers(const std::string& dir, const SysCalls& sys) {
  std::vector<std::string> removed;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return removed;
  const std::string host = HostForNames();
  while (dirent* e = readdir(d)) {
    RemoveOldPartial(sys, d, e->d_name, &removed);
    RemoveTemporary(sys, d, e->d_name, host, &removed);
  }
  closedir(d);
  return removed;
}

void RemoveLeftoversSaying(const std::string& dir, FILE* verbose, const SysCalls& sys) {
  for (const std::string& name : RemoveLeftovers(dir, sys)) {
    if (verbose != nullptr) {
      fprintf(verbose, "%s: removed %s, left by a pcopy that no longer runs\n", ProgramName(),
              Quote(name).c_str());
    }
  }
}

}  // namespace pcopy
