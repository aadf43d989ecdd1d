// help_format.h: pcopy's --help option table in GNU's layout ("  -j, --jobs=N   text", grouped
// under captions, within 80 columns), made from the very descriptions the parser uses, so the
// help never names an option the parser does not take. Pure functions; no process or I/O
// contract.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <string>

namespace pcopy {

inline constexpr size_t kHelpWidth = 80;

// One group: its caption and a line (or more) per option. An option's value is named by its
// typed value's value_name (N, SIZE, ...) and its default, if any, ends its text.
std::string FormatOptionGroup(const std::string& caption,
                              const boost::program_options::options_description& group);

// text wrapped at spaces to kHelpWidth, ending with a newline: its first line starts at column
// (the caller has written what comes before), the others are indented by indent spaces.
std::string WrapText(const std::string& text, size_t column, size_t indent);

}  // namespace pcopy
