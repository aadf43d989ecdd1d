#include "test_util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "app/random_file.h"
#include "base/unique_fd.h"

namespace pcopy::test {

testing::AssertionResult WaitUntil(const std::string& what, const std::function<bool()>& condition,
                                   int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (condition()) return testing::AssertionSuccess();
    if (std::chrono::steady_clock::now() >= deadline) {
      return testing::AssertionFailure()
             << "gave up after " << timeout_ms << " ms waiting for " << what;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::vector<std::string> LingeringNames(const std::function<std::vector<std::string>()>& list,
                                        int timeout_ms) {
  std::vector<std::string> lingering = list();
  if (lingering.empty()) return lingering;
  const std::vector<std::string> first = lingering;
  (void)WaitUntil(
      "names to go",
      [&] {
        lingering.clear();
        for (const std::string& name : list()) {
          if (std::find(first.begin(), first.end(), name) != first.end()) {
            lingering.push_back(name);
          }
        }
        return lingering.empty();
      },
      timeout_ms);
  return lingering;
}

TempDir::TempDir() {
  const char* tmp = getenv("TMPDIR");
  std::string templ =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/pcopy-test-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << strerror(errno);
  }
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<std::string> TempDir::List() const {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(path_)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void MakeRandomFile(const std::string& path, uint64_t size, uint64_t seed) {
  ASSERT_OK(WriteRandomFile(path, size, seed));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

bool SameBytes(const std::string& a, const std::string& b) {
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa || !fb) return false;
  constexpr size_t kBlock = 1 << 20;
  std::vector<char> ba(kBlock), bb(kBlock);
  for (;;) {
    fa.read(ba.data(), kBlock);
    fb.read(bb.data(), kBlock);
    const auto na = fa.gcount(), nb = fb.gcount();
    if (na != nb || memcmp(ba.data(), bb.data(), static_cast<size_t>(na)) != 0) return false;
    if (na == 0) return true;
  }
}

std::vector<std::string> Temporaries(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(".pcopy-", 0) == 0) found.push_back(name);
  }
  return found;
}

std::string Quoted(const std::string& path) {
  std::string quoted = "'";
  return quoted.append(path).append("'");
}

std::string ParamName(std::string name) {
  for (size_t plus = name.find('+'); plus != std::string::npos; plus = name.find('+', plus)) {
    name.replace(plus, 1, "_or_");
  }
  return name;
}

bool IsRoot() { return geteuid() == 0; }

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool IsOneLine(const std::string& s) {
  return s.size() > 1 && s.back() == '\n' && s.find('\n') == s.size() - 1;
}

std::string LastLine(const std::string& text) {
  std::string t = text;
  if (!t.empty() && t.back() == '\n') t.pop_back();
  const size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

ScopedEnv::~ScopedEnv() {
  for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
    if (it->second) {
      setenv(it->first.c_str(), it->second->c_str(), 1);
    } else {
      unsetenv(it->first.c_str());
    }
  }
}

void ScopedEnv::Set(const std::string& name, const std::string& value) {
  bool saved = false;
  for (const auto& entry : saved_) saved = saved || entry.first == name;
  if (!saved) {
    const char* old = getenv(name.c_str());
    saved_.emplace_back(name, old == nullptr ? std::nullopt : std::optional<std::string>(old));
  }
  setenv(name.c_str(), value.c_str(), 1);
}

testing::AssertionResult OnlyCopiedLines(const std::string& out) {
  if (out.empty() || out.back() != '\n') return testing::AssertionFailure() << "no line: " << out;
  for (size_t at = 0; at < out.size();) {
    const size_t end = out.find('\n', at);
    const std::string line = out.substr(at, end - at);
    if (line.size() < 8 || line.front() != '\'' || line.back() != '\'' ||
        line.find("' -> '") == std::string::npos) {
      return testing::AssertionFailure() << "not a copied line: [" << line << "] in\n" << out;
    }
    at = end + 1;
  }
  return testing::AssertionSuccess();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Mount::~Mount() {
  if (mounted_ && umount(dir_.c_str()) != 0) umount2(dir_.c_str(), MNT_DETACH);
}

TmpfsMount::TmpfsMount(const std::string& dir, const std::string& options, unsigned long flags)
    : Mount(dir) {
  if (mount("tmpfs", dir.c_str(), "tmpfs", flags, options.c_str()) == 0) {
    mounted_ = true;
  } else {
    error_ = "mount -t tmpfs -o " + options + " tmpfs " + dir + ": " + strerror(errno);
  }
}

LoopMount::LoopMount(const std::string& dir, const std::string& type, const std::string& image_path,
                     uint64_t image_size, const std::vector<std::string>& mkfs_options)
    : Mount(dir), image_(image_path) {
  {
    UniqueFd fd(open(image_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd.valid() || ftruncate(fd.get(), static_cast<off_t>(image_size)) != 0) {
      error_ = "create " + image_ + ": " + strerror(errno);
      return;
    }
  }
  const std::string log = image_ + ".log";
  const std::string mkfs = "mkfs." + type;
  std::vector<std::string> argv = {mkfs, "-q"};
  argv.insert(argv.end(), mkfs_options.begin(), mkfs_options.end());
  argv.push_back(image_);
  if (RunWithOutputs(argv, log, log, 60000).code != 0) {
    error_ = mkfs + " " + image_ + " failed (is it installed?): " + ReadFile(log);
  } else if (RunWithOutputs({"mount", "-o", "loop", image_, dir_}, log, log, 60000).code != 0) {
    error_ = "mount -o loop " + image_ + " " + dir_ + ": " + ReadFile(log);
  } else {
    mounted_ = true;
  }
  unlink(log.c_str());
}

// Runs before ~Mount unmounts: the loop device keeps the unlinked image open until then.
LoopMount::~LoopMount() { unlink(image_.c_str()); }

LoopDevice::LoopDevice(const std::string& image) {
  FILE* p = popen(("losetup -f --show '" + image + "' 2>&1").c_str(), "r");
  if (p == nullptr) {
    error_ = "popen failed";
    return;
  }
  char buf[256];
  std::string out;
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  if (status == 0 && out.rfind("/dev/", 0) == 0 && out.find('\n') == std::string::npos) {
    device_ = out;
  } else {
    error_ = "losetup -f --show failed: " + out;
  }
}

LoopDevice::~LoopDevice() {
  if (device_.empty()) return;
  const std::string cmd = "losetup -d '" + device_ + "' 2>/dev/null";
  if (system(cmd.c_str()) != 0) fprintf(stderr, "warning: could not detach %s\n", device_.c_str());
}

}  // namespace pcopy::test
