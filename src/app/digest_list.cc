#include "app/digest_list.h"

namespace pcopy {
namespace {

bool NeedsEscape(std::string_view name) {
  return name.find_first_of("\\\n\r") != std::string_view::npos;
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Undoes EscapedName's escapes (without the leading backslash); false on any other escape.
bool Unescape(std::string_view text, std::string* out) {
  out->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      *out += text[i];
      continue;
    }
    if (++i == text.size()) return false;
    switch (text[i]) {
      case '\\':
        *out += '\\';
        break;
      case 'n':
        *out += '\n';
        break;
      case 'r':
        *out += '\r';
        break;
      default:
        return false;
    }
  }
  return true;
}

}  // namespace

std::string EscapedName(std::string_view name) {
  if (!NeedsEscape(name)) return std::string(name);
  std::string out = "\\";
  for (char c : name) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string DigestLine(std::string_view digest, std::string_view name) {
  const std::string shown = EscapedName(name);
  const bool escaped = NeedsEscape(name);
  // The backslash that marks an escaped name opens the line, before the digest.
  std::string line = escaped ? "\\" : "";
  return line.append(digest).append("  ").append(shown, escaped ? 1 : 0);
}

bool IsIgnoredLine(std::string_view line) { return line.empty() || line.front() == '#'; }

bool ParseDigestLine(std::string_view line, std::string* digest, std::string* name) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  const bool escaped = !line.empty() && line.front() == '\\';
  if (escaped) line.remove_prefix(1);
  if (line.size() < kDigestHexDigits + 3) return false;
  for (size_t i = 0; i < kDigestHexDigits; ++i) {
    if (!IsHex(line[i])) return false;
  }
  const char blank = line[kDigestHexDigits], mode = line[kDigestHexDigits + 1];
  if ((blank != ' ' && blank != '\t') || (mode != ' ' && mode != '*')) return false;
  const std::string_view raw = line.substr(kDigestHexDigits + 2);
  if (raw.find('\0') != std::string_view::npos) return false;
  if (escaped) {
    if (!Unescape(raw, name)) return false;
  } else {
    name->assign(raw);
  }
  digest->clear();
  for (char c : line.substr(0, kDigestHexDigits)) {
    *digest += static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  }
  return true;
}

}  // namespace pcopy
