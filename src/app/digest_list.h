// digest_list.h: the lines of --checksum output and --check input, in sha256sum's format.
//
// A line is "DIGEST  NAME": 32 lowercase hex digits (the XXH3-128 tree digest), two spaces, the
// name as given. As GNU sha256sum does, a name holding a backslash, a newline or a carriage
// return is written with the escapes \\, \n and \r, and the line then starts with a backslash, so
// every name fits on one line and reads back exactly. Pure functions; no I/O.
#pragma once

#include <string>
#include <string_view>

namespace pcopy {

// The name as a line shows it: escaped, with the leading backslash, when it needs to be.
// Used for "DIGEST  NAME" (the backslash then opens the line) and "NAME: OK".
std::string EscapedName(std::string_view name);

// "DIGEST  NAME" (no newline); "\DIGEST  ESCAPED" for a name that needs escaping.
std::string DigestLine(std::string_view digest, std::string_view name);

// Reads one line of a checksum list (its newline removed) as sha256sum -c does: leading blanks
// and a trailing carriage return are ignored; the digest (either case) and the name are separated
// by one blank then a space or '*'; the name is unescaped if the line starts with a backslash.
// *digest is lowercase. False when the line is not of that form (wrong digest length, an unknown
// escape, no name).
bool ParseDigestLine(std::string_view line, std::string* digest, std::string* name);

// Whether a line of a list is to be skipped: empty, or a comment starting with '#'.
bool IsIgnoredLine(std::string_view line);

inline constexpr size_t kDigestHexDigits = 32;

}  // namespace pcopy
