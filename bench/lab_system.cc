// lab_system.cc: what the lab asks of the system around a timed run, shared by the matrix
// (lab_main.cc) and the scoreboard (scoreboard.cc) so that both prepare runs the same way:
// running a command without a shell, warming or dropping the page cache, flushing dirty pages,
// touching fresh memory.
#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "base/unique_fd.h"
#include "lab.h"

extern char** environ;

namespace lab {

int RunCommand(const std::vector<std::string>& argv, const std::string& stdout_path) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!stdout_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
  }
  pid_t pid;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void ReadThrough(const std::string& path) {
  pcopy::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::vector<char> buf(1 << 20);
  while (fd.valid() && read(fd.get(), buf.data(), buf.size()) > 0) {
  }
}

void SyncFs(const std::string& dir) {
  pcopy::UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.valid()) syncfs(fd.get());
}

// Touches `bytes` of new anonymous memory and frees it, so the timed copy that follows allocates
// its page cache from memory the host has just backed, in blocks large enough for any folio
// size: this hides the cost of large writes into a new file that the other modes show.
void Prefault(uint64_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  const long page = sysconf(_SC_PAGESIZE);
  for (uint64_t off = 0; off < bytes; off += static_cast<uint64_t>(page)) {
    static_cast<volatile char*>(p)[off] = 1;
  }
  munmap(p, bytes);
}

bool CanDropCaches() {
  pcopy::UniqueFd fd(open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC));
  return fd.valid();
}

bool DropCaches() {
  sync();
  pcopy::UniqueFd fd(open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC));
  return fd.valid() && write(fd.get(), "3\n", 2) == 2;
}

}  // namespace lab
