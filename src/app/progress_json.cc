#include "app/progress_json.h"

#include <algorithm>
#include <cinttypes>
#include <cstdint>

namespace pcopy {
namespace {

constexpr double kInterval = 1.0;  // seconds between two progress lines

// The length of the UTF-8 sequence starting at s[i], or 0 if it is not a valid one.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return 0;
  }
  return n;
}

void AppendNumber(std::string* out, const char* name, double v) {
  char buf[64];
  snprintf(buf, sizeof buf, "\"%s\":%.3f", name, v);
  *out += buf;
}

void AppendCount(std::string* out, const char* name, uint64_t v) {
  char buf[64];
  snprintf(buf, sizeof buf, "\"%s\":%" PRIu64, name, v);
  *out += buf;
}

}  // namespace

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = Utf8Length(s, i);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f || n == 0) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      i += 1;
      continue;
    } else {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    ++i;
  }
  return out + "\"";
}

std::string JsonProgress::Line(const ProgressSnapshot& s, double rate, const char* outcome) {
  const uint64_t done = s.done_total();
  std::string line = outcome != nullptr ? "{\"type\":\"end\"," : "{\"type\":\"progress\",";
  AppendNumber(&line, "elapsed", s.elapsed);
  line += ',';
  AppendCount(&line, "bytes_done", s.before + done);
  line += ',';
  if (s.total_known) {
    AppendCount(&line, "bytes_total", s.before + s.total);
  } else {
    line += "\"bytes_total\":null";  // a stream: known at its end only
  }
  line += ',';
  if (s.before != 0) {
    AppendCount(&line, "bytes_resumed", s.before);
    line += ',';
  }
  AppendCount(&line, "files_done", s.files_done);
  line += ',';
  AppendCount(&line, "files_total", s.files_total);
  line += ',';
  AppendCount(&line, "rate", static_cast<uint64_t>(rate));
  line += ",\"eta\":";
  if (rate > 0 && done <= s.total && s.total_known) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.1f", static_cast<double>(s.total - done) / rate);
    line += buf;
  } else {
    line += "null";
  }
  line += ',';
  AppendCount(&line, "errors", s.errors);
  line += ",\"workers\":[";
  for (size_t w = 0; w < s.done.size(); ++w) {
    if (w > 0) line += ',';
    line += '{';
    AppendCount(&line, "bytes", s.done[w]);
    line += ",\"file\":";
    line += w < s.current.size() && !s.current[w].empty() ? JsonString(s.current[w]) : "null";
    line += '}';
  }
  line += ']';
  if (outcome != nullptr) line += std::string(",\"outcome\":\"") + outcome + "\"";
  return line + "}";
}

void JsonProgress::OnProgress(const ProgressSnapshot& s) {
  // The first line comes a second after the start, like each next one a second after the last.
  if (s.elapsed - std::max(last_time_, 0.0) < kInterval) return;
  const uint64_t done = s.done_total();
  const double span = s.elapsed - std::max(last_time_, 0.0);
  const double rate = static_cast<double>(done - std::min(done, last_bytes_)) / span;
  last_time_ = s.elapsed;
  last_bytes_ = done;
  fprintf(out_, "%s\n", Line(s, rate, nullptr).c_str());
  fflush(out_);
}

void JsonProgress::OnFinish(const ProgressSnapshot& s, bool ok) {
  const double rate = s.elapsed > 0 ? static_cast<double>(s.done_total()) / s.elapsed : 0;
  fprintf(out_, "%s\n",
          Line(s, rate,
               s.outcome != nullptr ? s.outcome
               : ok                 ? "copied"
                                    : "failed")
              .c_str());
  fflush(out_);
}

void JsonProgress::OnPhase(const char* phase, uint64_t done, uint64_t total) {
  const auto now = std::chrono::steady_clock::now();
  if (phase_ != phase) {
    phase_ = phase;
    phase_start_ = now;
    phase_written_ = 0;
  }
  const double elapsed = std::chrono::duration<double>(now - phase_start_).count();
  if (done < total && elapsed - phase_written_ < kInterval) return;
  phase_written_ = elapsed;
  std::string line = "{\"type\":\"phase\",\"phase\":" + JsonString(phase) + ",";
  AppendNumber(&line, "elapsed", elapsed);
  line += ',';
  AppendCount(&line, "bytes_done", std::min(done, total));
  line += ',';
  AppendCount(&line, "bytes_total", total);
  fprintf(out_, "%s}\n", line.c_str());
  fflush(out_);
}

}  // namespace pcopy
