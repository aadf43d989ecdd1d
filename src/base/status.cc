#include "base/status.h"

#include <cstdio>
#include <cstring>

namespace pcopy {

Status Status::FromErrno(std::string op, std::string_view path, int err,
                         std::optional<uint64_t> offset) {
  Status s;
  s.failed_ = true;
  s.op_ = std::move(op);
  s.path_ = Quote(path);
  s.err_ = err;
  s.offset_ = offset;
  return s;
}

Status Status::Failure(std::string op, std::string_view path, std::string reason,
                       std::optional<uint64_t> offset) {
  Status s;
  s.failed_ = true;
  s.op_ = std::move(op);
  s.path_ = Quote(path);
  s.reason_ = std::move(reason);
  s.offset_ = offset;
  return s;
}

Status Status::Message(std::string text) {
  Status s;
  s.failed_ = true;
  s.reason_ = std::move(text);
  return s;
}

Status Status::Interrupted(int signal, std::string detail) {
  const char* abbrev = sigabbrev_np(signal);
  Status s = Message("interrupted by " + (abbrev != nullptr ? std::string("SIG") + abbrev
                                                            : "signal " + std::to_string(signal)));
  if (!detail.empty()) s.reason_ += "; " + detail;
  s.signal_ = signal;
  return s;
}

Status& Status::WithSecondPath(std::string_view path2) {
  path2_ = Quote(path2);
  return *this;
}

Status& Status::WithTail(std::string words) {
  tail_ = std::move(words);
  return *this;
}

std::string Status::ToString() const {
  if (!failed_) return "OK";
  std::string out;
  if (!op_.empty()) {
    out = op_ + " " + path_;
    if (!path2_.empty()) out += " to " + path2_;
    if (!tail_.empty()) out += " " + tail_;
    if (offset_) out += " at offset " + std::to_string(*offset_);
    out += ": ";
  }
  out += err_ != 0 ? std::string(strerror(err_)) : reason_;
  return out;
}

std::string Quote(std::string_view path) {
  std::string out = "'";
  for (unsigned char c : path) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\%03o", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "'";
  return out;
}

}  // namespace pcopy
