// option_names.h: long options as GNU getopt takes them. An unambiguous prefix stands for the
// whole name (--verb for --verbose), an ambiguous one is refused with its possibilities, and a
// misspelt name gets the nearest one as a suggestion. Pure functions; no process or I/O contract.
#pragma once

#include <string>
#include <vector>

namespace pcopy {

// Rewrites each "--prefix" and "--prefix=value" of args (up to a bare "--") to the one long
// option in names (without dashes) it begins; an exact name is taken as it is. Returns "" when
// every long option is known, or the message for the first one that is not: "option '--pr' is
// ambiguous; possibilities: '--preserve' '--progress'", or "unrecognised option '--verfy'; did
// you mean '--verify'?" (without a suggestion when no name is near).
std::string ExpandLongOptions(const std::vector<std::string>& names,
                              std::vector<std::string>* args);

// The name nearest to word (at most 2 edits: insertions, deletions, substitutions and swaps of
// neighbours, and fewer than half its length); "" if none is.
std::string NearestName(const std::vector<std::string>& names, const std::string& word);

}  // namespace pcopy
