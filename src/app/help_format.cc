#include "app/help_format.h"

#include <boost/program_options/value_semantic.hpp>

namespace pcopy {
namespace {

namespace po = boost::program_options;

constexpr size_t kTextColumn = 30;  // where GNU tools start an option's text

// "-j, --jobs=N", "    --strategy=NAME", "-R": the short name first, as GNU lists them.
std::string Names(const po::option_description& o, std::string* default_text) {
  const std::string display = o.format_name();  // "-j [ --jobs ]", "--fsync" or "-R"
  const std::string& long_name = o.long_name();
  std::string names;
  if (display.size() >= 2 && display[0] == '-' && display[1] != '-') {
    names.append(display, 0, 2);
    if (!long_name.empty()) names.append(", ");
  } else {
    names.append(4, ' ');
  }
  if (!long_name.empty()) names.append("--").append(long_name);
  if (o.semantic()->max_tokens() > 0) {
    // name() is the value's name, then " (=default)" where it has one.
    const std::string value = o.semantic()->name();
    const size_t paren = value.find(" (=");
    if (paren != std::string::npos)
      default_text->assign(value, paren + 3, value.size() - paren - 4);
    // "[LIST]" names an optional value: "--preserve[=LIST]", as GNU writes it.
    const std::string shown = value.substr(0, paren);
    if (!shown.empty() && shown[0] == '[') {
      names.append("[=").append(shown, 1);
    } else {
      names.append("=").append(shown);
    }
  }
  return names;
}

}  // namespace

std::string WrapText(const std::string& text, size_t column, size_t indent) {
  std::string out;
  bool line_empty = true;
  size_t at = 0;
  while (at < text.size()) {
    const size_t space = text.find(' ', at);
    const std::string word =
        text.substr(at, space == std::string::npos ? std::string::npos : space - at);
    at = space == std::string::npos ? text.size() : space + 1;
    if (word.empty()) {
      // A second space within a line is kept: "DIGEST  FILE" is sha256sum's format.
      if (!line_empty && column < kHelpWidth) {
        out.push_back(' ');
        ++column;
      }
      continue;
    }
    if (!line_empty && column + 1 + word.size() > kHelpWidth) {
      out.push_back('\n');
      out.append(indent, ' ');
      column = indent;
      line_empty = true;
    }
    if (!line_empty) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    line_empty = false;
  }
  out.push_back('\n');
  return out;
}

std::string FormatOptionGroup(const std::string& caption, const po::options_description& group) {
  std::string out = caption + ":\n";
  for (const auto& option : group.options()) {
    std::string default_text;
    const std::string names = "  " + Names(*option, &default_text);
    std::string text = option->description();
    if (!default_text.empty()) text += " (default: " + default_text + ")";
    // A name too long for its column puts the text on the next line, as GNU's help does.
    out.append(names);
    if (names.size() + 2 > kTextColumn) {
      out.push_back('\n');
      out.append(kTextColumn, ' ');
    } else {
      out.append(kTextColumn - names.size(), ' ');
    }
    out += WrapText(text, kTextColumn, kTextColumn);
  }
  return out;
}

}  // namespace pcopy
