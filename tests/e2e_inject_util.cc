#include "e2e_inject_util.h"

#include <string>
#include <string_view>
#include <vector>

namespace pcopy::test {

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

const std::string& StraceProblem() {
  static const std::string problem = [] {
    const RunResult r = RunCommand({"strace", "-f", "-o", "/dev/null", "true"});
    if (r.exit_code == 127) {
      return std::string(
          "strace is not installed (scripts/install-deps.sh installs it as root): cannot inject "
          "syscall faults");
    }
    if (r.exit_code != 0) {
      return Cat(
          {"strace cannot trace here (is ptrace permitted? a container may forbid it): "
           "`strace -f -o /dev/null true` failed: ",
           r.err});
    }
    return std::string();
  }();
  return problem;
}

std::string WithoutStraceLines(const std::string& err) {
  std::string kept;
  for (size_t at = 0; at < err.size();) {
    size_t end = err.find('\n', at);
    end = end == std::string::npos ? err.size() : end + 1;
    const std::string_view line(err.data() + at, end - at);
    if (line.rfind("strace: ", 0) != 0) kept.append(line);
    at = end;
  }
  return kept;
}

size_t CountOf(const std::string& text, std::string_view needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace pcopy::test
