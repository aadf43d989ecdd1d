#include "base/size_parse.h"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace pcopy {
namespace {

struct Suffix {
  std::string_view name;
  uint64_t factor;
};

constexpr uint64_t kKi = 1024;

Units g_units = Units::kBinary;  // SetUnits
constexpr Suffix kSuffixes[] = {
    {"", 1},
    {"b", 1},
    {"k", kKi},
    {"kib", kKi},
    {"kb", 1000},
    {"m", kKi* kKi},
    {"mib", kKi* kKi},
    {"mb", 1000 * 1000},
    {"g", kKi* kKi* kKi},
    {"gib", kKi* kKi* kKi},
    {"gb", 1000ull * 1000 * 1000},
    {"t", kKi* kKi* kKi* kKi},
    {"tib", kKi* kKi* kKi* kKi},
    {"tb", 1000ull * 1000 * 1000 * 1000},
    {"p", kKi* kKi* kKi* kKi* kKi},
    {"pib", kKi* kKi* kKi* kKi* kKi},
    {"pb", 1000ull * 1000 * 1000 * 1000 * 1000},
};

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Three significant digits in the largest unit that keeps the value below base. The unit and the
// precision are chosen after rounding: 1023.96 KiB prints as "1.00 MiB", never "1024 KiB".
std::string FormatScaled(double v, double base, const char* const* units, int last_unit) {
  int unit = 0;
  while (unit < last_unit && v >= base) {
    v /= base;
    ++unit;
  }
  if (unit < last_unit && std::round(v) >= base) {
    v /= base;
    ++unit;
  }
  const char* format = std::round(v * 100) / 100 < 10  ? "%.2f %s"
                       : std::round(v * 10) / 10 < 100 ? "%.1f %s"
                                                       : "%.0f %s";
  char buf[32];
  snprintf(buf, sizeof buf, format, v, units[unit]);
  return buf;
}

}  // namespace

std::optional<uint64_t> ParseSize(std::string_view text) {
  size_t i = 0;
  uint64_t value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
    ++i;
  }
  if (i == 0) return std::nullopt;  // no digits: empty, a sign, or junk
  // A fraction: at least one digit after the point, 18 at most counted (a byte is the finest).
  uint64_t fraction = 0, scale = 1;
  if (i < text.size() && text[i] == '.') {
    const size_t first = ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (scale < 1000000000000000000ull) {
        fraction = fraction * 10 + static_cast<uint64_t>(text[i] - '0');
        scale *= 10;
      }
      ++i;
    }
    if (i == first) return std::nullopt;
  }
  const std::string suffix = Lower(text.substr(i));
  for (const Suffix& s : kSuffixes) {
    if (suffix != s.name) continue;
    if (value != 0 && s.factor > UINT64_MAX / value) return std::nullopt;
    // Rounded to the nearest byte; a fraction of a byte itself is no size.
    if (fraction != 0 && s.factor == 1) return std::nullopt;
    const unsigned __int128 part =
        (static_cast<unsigned __int128>(fraction) * s.factor + scale / 2) / scale;
    if (part > UINT64_MAX - value * s.factor) return std::nullopt;
    return value * s.factor + static_cast<uint64_t>(part);
  }
  return std::nullopt;
}

void SetUnits(Units units) { g_units = units; }

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kBinary[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  static constexpr const char* kSi[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  const bool si = g_units == Units::kSi;
  if (bytes < (si ? 1000u : 1024u)) return std::to_string(bytes) + " B";
  return FormatScaled(static_cast<double>(bytes), si ? 1000 : 1024, si ? kSi : kBinary, 6);
}

std::string FormatRate(double bytes_per_second) {
  static constexpr const char* kBinary[] = {"B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s"};
  static constexpr const char* kSi[] = {"B/s", "kB/s", "MB/s", "GB/s", "TB/s"};
  const bool si = g_units == Units::kSi;
  if (!std::isfinite(bytes_per_second) || bytes_per_second < 0) bytes_per_second = 0;
  return FormatScaled(bytes_per_second, si ? 1000 : 1024, si ? kSi : kBinary, 4);
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 360000) return "--:--";
  const auto total = static_cast<long>(std::lround(seconds));
  char buf[32];
  if (total >= 3600) {
    snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
  } else {
    snprintf(buf, sizeof buf, "%ld:%02ld", total / 60, total % 60);
  }
  return buf;
}

}  // namespace pcopy
