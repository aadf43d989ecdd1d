#include "mpi/tree_messages.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "base/wire.h"

namespace pcopy {
namespace {

// A descriptor as another rank reopens it: its path, how it was opened, what it is.
struct FdSpec {
  std::string path;
  int32_t access = O_RDONLY;
  uint8_t directory = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;
};

Status Describe(int fd, FdSpec* spec) {
  char path[PATH_MAX];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = readlink(link.c_str(), path, sizeof path);
  struct stat st;
  if (n <= 0 || fstat(fd, &st) != 0) return Status::FromErrno("cannot name", link, errno);
  if (static_cast<size_t>(n) >= sizeof path) {
    return Status::FromErrno("cannot name", link, ENAMETOOLONG);
  }
  spec->path.assign(path, static_cast<size_t>(n));
  // An unnamed file (O_TMPFILE) or one removed meanwhile has no path another rank could open.
  if (spec->path.empty() || spec->path[0] != '/' || st.st_nlink == 0) {
    return Status::Failure("cannot hand", spec->path, "to another rank: it has no name");
  }
  const int flags = fcntl(fd, F_GETFL);
  spec->access = flags < 0 ? O_RDONLY : flags & O_ACCMODE;
  spec->directory = S_ISDIR(st.st_mode) ? 1 : 0;
  spec->dev = st.st_dev;
  spec->ino = st.st_ino;
  return {};
}

UniqueFd Reopen(const FdSpec& spec, bool compare_dev, Status* error) {
  const int flags =
      spec.access | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | (spec.directory != 0 ? O_DIRECTORY : 0);
  UniqueFd fd(open(spec.path.c_str(), flags));
  struct stat st;
  if (!fd.valid() || fstat(fd.get(), &st) != 0) {
    *error = Status::FromErrno("cannot open", spec.path, errno);
    return UniqueFd();
  }
  if (st.st_ino != spec.ino || (compare_dev && st.st_dev != spec.dev)) {
    *error = Status::Failure("cannot open", spec.path,
                             "this rank sees another file than rank 0 (not a shared file "
                             "system, or it was replaced)");
    return UniqueFd();
  }
  return fd;
}

}  // namespace

void SendTo(int rank, int tag, const std::vector<char>& bytes) {
  MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_CHAR, rank, tag, MPI_COMM_WORLD);
}

std::vector<char> ReceiveProbed(const MPI_Status& probed) {
  int count = 0;
  MPI_Get_count(&probed, MPI_CHAR, &count);
  std::vector<char> bytes(static_cast<size_t>(count));
  MPI_Recv(bytes.data(), count, MPI_CHAR, probed.MPI_SOURCE, probed.MPI_TAG, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  return bytes;
}

bool Probe(int source, int tag, MPI_Status* status) {
  int flag = 0;
  MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, status);
  return flag != 0;
}

std::vector<char> EncodeStart(const TreeWorkerConfig& c, const std::string& machine,
                              const std::string& probe) {
  WireWriter w;
  w.PutString(machine);
  w.PutString(probe);
  w.PutBytes(EncodeTreeConfig(c));
  return w.Take();
}

bool DecodeStart(const std::vector<char>& bytes, TreeWorkerConfig* c, std::string* machine,
                 std::string* probe) {
  WireReader r(bytes);
  std::vector<char> config;
  return r.GetString(machine) && r.GetString(probe) && r.GetBytes(&config) && r.AtEnd() &&
         DecodeTreeConfig(config, c);
}

Status EncodeTaskMessage(const Task& task, uint32_t lane, std::vector<char>* out) {
  WireWriter message;
  message.Put(lane);
  message.PutBytes(EncodeTask(task));
  message.Put(static_cast<uint32_t>(task.fds.size()));
  for (const UniqueFd& fd : task.fds) {
    FdSpec spec;
    if (Status s = Describe(fd.get(), &spec); !s.ok()) return s;
    message.PutString(spec.path);
    message.Put(spec.access);
    message.Put(spec.directory);
    message.Put(spec.dev);
    message.Put(spec.ino);
  }
  *out = message.Take();
  return {};
}

bool DecodeTaskMessage(const std::vector<char>& bytes, bool compare_dev, Task* task, uint32_t* lane,
                       Status* error) {
  WireReader r(bytes);
  std::vector<char> encoded;
  uint32_t count = 0;
  if (!r.Get(lane) || !r.GetBytes(&encoded) || !DecodeTask(encoded, task) || !r.Get(&count)) {
    *error = Status::Message("a task arrived damaged");
    return false;
  }
  for (uint32_t i = 0; i < count && error->ok(); ++i) {
    FdSpec spec;
    if (!r.GetString(&spec.path) || !r.Get(&spec.access) || !r.Get(&spec.directory) ||
        !r.Get(&spec.dev) || !r.Get(&spec.ino)) {
      *error = Status::Message("a task arrived damaged");
      return false;
    }
    task->fds.push_back(Reopen(spec, compare_dev, error));
  }
  return true;
}

TaskResult FailedResult(const Task& task, const Status& error) {
  TaskResult result;
  result.id = task.id;
  const size_t n = task.kind == TaskKind::kChunk ? 1 : task.items.size();
  for (size_t i = 0; i < n; ++i) {
    result.states.push_back(ItemState::kFailed);
    result.errors.push_back(ItemError{static_cast<uint32_t>(i), error.err(), error.ToString()});
  }
  return result;
}

}  // namespace pcopy
