// status.h: the error value every pcopy module returns instead of throwing.
//
// A Status names the operation that failed, the path (or two) it failed on, the offset where it
// matters, and the errno or a short reason. Only main() prints it, as one line:
//   pcopy: write 'dst.img' at offset 4194304: No space left on device
// Status is a plain value: safe to build in a forked worker and to copy across processes by
// its fields (see worker_slots.h), never by pointer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pcopy {

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  // From errno: "<op> '<path>'[ at offset N]: <strerror(err)>".
  static Status FromErrno(std::string op, std::string_view path, int err,
                          std::optional<uint64_t> offset = std::nullopt);
  // A failure with a reason instead of an errno: "<op> '<path>'[ at offset N]: <reason>".
  static Status Failure(std::string op, std::string_view path, std::string reason,
                        std::optional<uint64_t> offset = std::nullopt);
  // A message that is already a whole sentence (usage errors, refusals).
  static Status Message(std::string text);
  // Stopped by a terminating signal: "interrupted by SIGINT[; <detail>]". signal() returns it,
  // so a job can exit with 128 + N.
  static Status Interrupted(int signal, std::string detail = {});

  bool ok() const { return !failed_; }
  int err() const { return err_; }        // 0 when the cause is not an errno
  int signal() const { return signal_; }  // the signal that interrupted, or 0
  const std::string& op() const { return op_; }
  std::optional<uint64_t> offset() const { return offset_; }

  // Adds a second path: "<op> '<path>' to '<path2>' ...".
  Status& WithSecondPath(std::string_view path2);
  // Adds words after the path(s), as cp's "cannot open 'x' for reading: ...".
  Status& WithTail(std::string words);

  // One line, without the "pcopy: " prefix that main adds.
  std::string ToString() const;

 private:
  bool failed_ = false;
  std::string op_;
  std::string path_;   // already quoted for display
  std::string path2_;  // already quoted; empty if none
  std::string tail_;   // after the paths; empty if none
  std::optional<uint64_t> offset_;
  int err_ = 0;
  std::string reason_;  // used when err_ == 0
  int signal_ = 0;      // set by Interrupted()
};

// Quotes a path for a one-line message: 'name', with control characters, quotes and backslashes
// written as escapes (\n, \t, \\, \', \ooo), so a hostile file name cannot break the line.
std::string Quote(std::string_view path);

}  // namespace pcopy
