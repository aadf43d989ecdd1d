#include "app/option_values.h"

#include <cstdio>
#include <cstdlib>

#include "base/size_parse.h"

namespace pcopy {

Status Usage(const std::string& what) {
  return Status::Message(what + " (try '" + ProgramName() + " --help')");
}

Status ParseSizeOption(const char* name, const std::string& text, uint64_t min, uint64_t* out) {
  std::optional<uint64_t> v = ParseSize(text);
  if (!v || *v < min) {
    return Usage(std::string("invalid ") + name + ": " + Quote(text) +
                 (v ? " (expected at least " + FormatBytes(min) + ")"
                    : " (expected a size such as 64K, 1.5M or 2GiB)"));
  }
  *out = *v;
  return {};
}

Status ParseCount(const char* name, const std::string& text, unsigned min, unsigned max,
                  unsigned* out) {
  const bool digits = !text.empty() && text.size() <= 9 &&
                      text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoul(text) < min || std::stoul(text) > max) {
    return Usage(std::string("invalid ") + name + ": " + Quote(text) + " (expected " +
                 std::to_string(min) + " to " + std::to_string(max) + ")");
  }
  *out = static_cast<unsigned>(std::stoul(text));
  return {};
}

Status ParseDecimal(const char* name, const std::string& text, double min, double max,
                    const char* unit, double* out) {
  const bool decimal = !text.empty() && text.find_first_not_of("0123456789.") == std::string::npos;
  char* end = nullptr;
  const double v = decimal ? strtod(text.c_str(), &end) : min - 1;
  if (!decimal || *end != '\0' || !(v >= min && v <= max)) {
    char range[64];
    snprintf(range, sizeof range, " (expected %g to %g%s)", min, max, unit);
    return Usage(std::string("invalid ") + name + ": " + Quote(text) + range);
  }
  *out = v;
  return {};
}

}  // namespace pcopy
