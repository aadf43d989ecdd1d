#include "app/option_names.h"

#include <algorithm>

#include "base/status.h"

namespace pcopy {
namespace {

// Optimal string alignment distance: Levenshtein with swaps of neighbouring letters, the
// commonest typing slip (--verfiy).
size_t Distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string NearestName(const std::vector<std::string>& names, const std::string& word) {
  std::string best;
  size_t best_distance = 3;
  for (const std::string& name : names) {
    const size_t d = Distance(word, name);
    if (d < best_distance && 2 * d < name.size()) {
      best = name;
      best_distance = d;
    }
  }
  return best;
}

std::string ExpandLongOptions(const std::vector<std::string>& names,
                              std::vector<std::string>* args) {
  for (std::string& arg : *args) {
    if (arg == "--") break;
    if (arg.size() <= 2 || arg.compare(0, 2, "--") != 0) continue;
    const size_t eq = arg.find('=');
    const std::string word = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (std::find(names.begin(), names.end(), word) != names.end()) continue;
    std::vector<std::string> matches;
    for (const std::string& name : names) {
      if (name.compare(0, word.size(), word) == 0) matches.push_back(name);
    }
    if (matches.size() == 1) {
      arg = "--" + matches[0] + (eq == std::string::npos ? "" : arg.substr(eq));
      continue;
    }
    if (matches.size() > 1) {
      std::string text = "option " + Quote("--" + word) + " is ambiguous; possibilities:";
      for (const std::string& m : matches) text += " '--" + m + "'";
      return text;
    }
    const std::string near = NearestName(names, word);
    return "unrecognised option " + Quote("--" + word) +
           (near.empty() ? "" : "; did you mean '--" + near + "'?");
  }
  return "";
}

}  // namespace pcopy
