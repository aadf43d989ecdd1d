// tree_gen.cc: pcopy-tree-gen, which writes one of the benchmark trees of tree_shape.h into a new
// or empty directory:
//   pcopy-tree-gen --shape a|b|c|million [--seed N] [--scale F] [--plan] DIR
// File contents are pseudo-random (base/random_bytes.h: cheap, and nothing compresses them), and
// every file and directory gets the plan's modification time, so the same arguments give the
// same tree, byte for byte and second for second. It checks free space and inodes first and
// refuses a tree that would not leave a margin. It prints "files N dirs M bytes B" (the plan);
// --plan prints only that, and writes nothing.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "base/random_bytes.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "tree_shape.h"

namespace {

using pcopy::Status;

constexpr uint64_t kBlock = 4096;
constexpr uint64_t kMinSpare = 1ull << 30;  // free space a tree must leave, at least
constexpr uint64_t kSpareDivisor = 20;      // ... or 1/20 of the file system, if more
constexpr size_t kWriteSize = 128 << 10;    // below the write-size trap (README "Defaults")
constexpr const char* kUsage =
    "usage: pcopy-tree-gen --shape a|b|c|million [--seed N] [--scale F] [--plan] DIR";

struct Args {
  tree::Shape shape = tree::Shape::kSmall;
  uint64_t seed = 1;
  double scale = 1;
  bool plan_only = false;
  std::string dir;
};

Status ParseArgs(int argc, char** argv, Args* args) {
  namespace po = boost::program_options;
  std::string shape;
  po::options_description opts;
  opts.add_options()("shape", po::value(&shape)->required(), "a, b, c or million")(
      "seed", po::value(&args->seed), "seed of sizes, names and contents (default 1)")(
      "scale", po::value(&args->scale), "multiplies file counts and large sizes (default 1)")(
      "plan", po::bool_switch(&args->plan_only), "print the plan's totals, write nothing")(
      "dir", po::value(&args->dir)->required(), "a new or empty directory");
  po::positional_options_description positional;
  positional.add("dir", 1);
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(opts).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Status::Message(std::string(e.what()) + "\n" + kUsage);
  }
  const std::optional<tree::Shape> parsed = tree::ParseShape(shape);
  if (!parsed) return Status::Message("invalid --shape '" + shape + "' (a, b, c or million)");
  if (!(args->scale > 0)) return Status::Message("--scale must be positive");
  args->shape = *parsed;
  return {};
}

std::string Gigabytes(uint64_t bytes) {
  char text[32];
  snprintf(text, sizeof text, "%.2f GB", static_cast<double>(bytes) / 1e9);
  return text;
}

// The tree's footprint: whole blocks per file and per directory, and an inode each.
uint64_t FootprintBytes(const tree::TreePlan& plan) {
  uint64_t bytes = plan.dirs.size() * kBlock + plan.files.size() * 64;  // directory entries
  for (const tree::FileSpec& f : plan.files) bytes += (f.size + kBlock - 1) / kBlock * kBlock;
  return bytes;
}

Status CheckSpace(const tree::TreePlan& plan, const std::string& dir) {
  const std::filesystem::path where = std::filesystem::exists(dir)
                                          ? std::filesystem::path(dir)
                                          : std::filesystem::absolute(dir).parent_path();
  struct statvfs fs;
  if (statvfs(where.c_str(), &fs) != 0) return Status::FromErrno("statvfs", where.native(), errno);
  const uint64_t need = FootprintBytes(plan);
  const uint64_t total = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  const uint64_t free = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  const uint64_t spare = std::max(kMinSpare, total / kSpareDivisor);
  if (need + spare > free) {
    return Status::Message("the tree needs " + Gigabytes(need) + " and '" + where.native() +
                           "' has " + Gigabytes(free) + " free; it must leave " + Gigabytes(spare) +
                           " spare (a smaller --scale fits)");
  }
  const uint64_t inodes = plan.files.size() + plan.dirs.size();
  if (fs.f_files != 0 && inodes + inodes / 20 > fs.f_favail) {
    return Status::Message("the tree needs " + std::to_string(inodes) + " inodes and '" +
                           where.native() + "' has " + std::to_string(fs.f_favail) + " free");
  }
  return {};
}

Status PrepareRoot(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) {
    if (!std::filesystem::is_directory(dir, ec) || !std::filesystem::is_empty(dir, ec)) {
      return Status::Failure("refusing to write into", dir, "not an empty directory");
    }
    return {};
  }
  if (mkdir(dir.c_str(), 0755) != 0) return Status::FromErrno("mkdir", dir, errno);
  return {};
}

Status WriteAll(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("write", path, errno);
    data += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

Status SetMtime(int fd, const char* path, int64_t mtime) {
  const timespec times[2] = {{mtime, 0}, {mtime, 0}};
  const int rc = fd >= 0 ? futimens(fd, times) : utimensat(AT_FDCWD, path, times, 0);
  return rc == 0 ? Status() : Status::FromErrno("utimensat", path, errno);
}

Status WriteFile(const std::string& path, const tree::FileSpec& spec, pcopy::RandomBytes& random,
                 std::vector<char>& buffer) {
  pcopy::UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return Status::FromErrno("open", path, errno);
  for (uint64_t left = spec.size; left > 0;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, buffer.size()));
    random.Fill({buffer.data(), n});
    if (Status s = WriteAll(fd.get(), buffer.data(), n, path); !s.ok()) return s;
    left -= n;
  }
  if (Status s = SetMtime(fd.get(), path.c_str(), spec.mtime); !s.ok()) return s;
  return fd.Close(path);
}

// Directories first (parents before children), then the files, then the directories' times,
// which creating their entries has changed.
Status WriteTree(const tree::TreePlan& plan, const std::string& root, uint64_t seed) {
  for (size_t i = 1; i < plan.dirs.size(); ++i) {
    const std::string path = root + "/" + plan.dirs[i].path;
    if (mkdir(path.c_str(), 0755) != 0) return Status::FromErrno("mkdir", path, errno);
  }
  pcopy::RandomBytes random(seed ^ 0xC0FFEE);
  std::vector<char> buffer(kWriteSize);
  for (size_t i = 0; i < plan.files.size(); ++i) {
    const std::string path = root + "/" + tree::FilePath(plan, i);
    if (Status s = WriteFile(path, plan.files[i], random, buffer); !s.ok()) return s;
  }
  for (const tree::DirSpec& d : plan.dirs) {
    const std::string path = d.path.empty() ? root : root + "/" + d.path;
    if (Status s = SetMtime(-1, path.c_str(), d.mtime); !s.ok()) return s;
  }
  return {};
}

Status Run(const Args& args) {
  const tree::TreePlan plan = tree::PlanTree(args.shape, args.seed, args.scale);
  printf("files %zu dirs %zu bytes %llu\n", plan.files.size(), plan.dirs.size(),
         static_cast<unsigned long long>(plan.bytes));
  fflush(stdout);
  if (args.plan_only) return {};
  if (Status s = CheckSpace(plan, args.dir); !s.ok()) return s;
  if (Status s = PrepareRoot(args.dir); !s.ok()) return s;
  return WriteTree(plan, args.dir, args.seed);
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (Status s = ParseArgs(argc, argv, &args); !s.ok()) {
    fprintf(stderr, "pcopy-tree-gen: %s\n", s.ToString().c_str());
    return 2;
  }
  if (Status s = Run(args); !s.ok()) {
    fprintf(stderr, "pcopy-tree-gen: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
