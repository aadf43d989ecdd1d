// option_values.h: one option's value read from its text, or refused with a message that names
// the option, quotes the value and says what was expected ("invalid --jobs: '0' (expected 1 to
// 1024)"). Pure functions; no process or I/O contract.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "base/program_name.h"
#include "base/status.h"

namespace pcopy {

// A usage error (exit 2), with the hint that --help says more.
Status Usage(const std::string& what);

// A size (64K, 1.5M, 2GiB) of at least min bytes.
Status ParseSizeOption(const char* name, const std::string& text, uint64_t min, uint64_t* out);

// A whole number from min to max: digits only (no sign, no suffix, no spaces).
Status ParseCount(const char* name, const std::string& text, unsigned min, unsigned max,
                  unsigned* out);

// A plain decimal from min to max: strtod alone would also take " 4", "0x4" and "4e0".
// unit, if any, follows the range in the message ("expected 0 to 86400 seconds").
Status ParseDecimal(const char* name, const std::string& text, double min, double max,
                    const char* unit, double* out);

// One of the words of choices, which the message lists ("expected auto|always|never").
template <typename Enum, size_t N>
Status ParseChoice(const char* name, const std::string& text,
                   const std::pair<const char*, Enum> (&choices)[N], Enum* out) {
  std::string valid;
  for (const auto& [word, value] : choices) {
    if (text == word) {
      *out = value;
      return {};
    }
    valid += valid.empty() ? word : std::string("|") + word;
  }
  return Usage(std::string("invalid ") + name + ": " + Quote(text) + " (expected " + valid + ")");
}

}  // namespace pcopy
