// scoreboard_report.cc: the scoreboard's one table (Markdown, printed and written), its CSV and
// its plot: per regime, the median same-round ratio of the baseline's time to default pcopy's
// with its min-max bar and a line at 1.0, because a median alone hides runs that vary
// several-fold here.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "lab.h"
#include "scoreboard.h"

namespace lab {
namespace {

// The same-round ratios of `other`'s time to default pcopy's, rounds where both ran.
std::vector<double> Ratios(const Regime& r, Contender::Role role) {
  const Contender* other = nullptr;
  const Contender* pcopy = nullptr;
  for (const Contender& c : r.contenders) {
    if (c.role == role) other = &c;
    if (c.role == Contender::kPcopy) pcopy = &c;
  }
  std::vector<double> out;
  if (!other || !pcopy) return out;
  for (size_t i = 0; i < std::min(other->seconds.size(), pcopy->seconds.size()); ++i) {
    if (other->seconds[i] > 0 && pcopy->seconds[i] > 0) {
      out.push_back(other->seconds[i] / pcopy->seconds[i]);
    }
  }
  return out;
}

double MedianSeconds(const Contender& c) {
  std::vector<double> ran;
  for (const double s : c.seconds) {
    if (s > 0) ran.push_back(s);
  }
  return Median(ran);
}

struct Line {
  const Regime* regime;
  double baseline_s = 0, pcopy_s = 0, ratio = 0, ratio_min = 0, ratio_max = 0;
  double one_job = 0, python = 0;  // median same-round ratios; 0 where not timed
};

Line Summarize(const Regime& r) {
  Line l{&r};
  if (!r.skipped.empty()) return l;
  l.baseline_s = MedianSeconds(r.contenders[0]);
  l.pcopy_s = MedianSeconds(r.contenders[1]);
  const std::vector<double> ratios = Ratios(r, Contender::kBaseline);
  if (!ratios.empty()) {
    l.ratio = Median(ratios);
    l.ratio_min = *std::min_element(ratios.begin(), ratios.end());
    l.ratio_max = *std::max_element(ratios.begin(), ratios.end());
  }
  l.one_job = Median(Ratios(r, Contender::kOneJob));
  l.python = Median(Ratios(r, Contender::kPython));
  return l;
}

std::string Ratio(double x) {
  if (x <= 0) return "-";
  char buf[32];
  snprintf(buf, sizeof buf, "%.2fx", x);
  return buf;
}

std::string Markdown(const std::vector<Line>& lines, const std::string& conditions) {
  std::ostringstream md;
  md << conditions << "\n\n"
     << "| regime | baseline | baseline median s | pcopy median s | baseline / pcopy (median of "
        "same-round) | min-max | pcopy -j 1 / pcopy | Python / pcopy |\n"
        "|---|---|---|---|---|---|---|---|\n";
  std::string skipped;
  for (const Line& l : lines) {
    const Regime& r = *l.regime;
    char buf[512];
    if (!r.skipped.empty()) {
      snprintf(buf, sizeof buf, "| %s | %s | skipped: %s | - | - | - | - | - |\n", r.name.c_str(),
               r.contenders[0].name.c_str(), r.skipped.c_str());
      skipped += "Skipped: " + r.name + ": " + r.skipped + ".\n";
    } else {
      snprintf(buf, sizeof buf, "| %s | %s | %.4g | %.4g | %s | %s-%s | %s | %s |\n",
               r.name.c_str(), r.contenders[0].name.c_str(), l.baseline_s, l.pcopy_s,
               Ratio(l.ratio).c_str(), Ratio(l.ratio_min).c_str(), Ratio(l.ratio_max).c_str(),
               Ratio(l.one_job).c_str(), Ratio(l.python).c_str());
    }
    md << buf;
  }
  if (!skipped.empty()) md << "\n" << skipped;
  return md.str();
}

std::string Csv(const std::vector<Line>& lines) {
  std::ostringstream csv;
  csv << "regime,baseline,pcopy,runs,failures,baseline_median_s,pcopy_median_s,ratio_median,"
         "ratio_min,ratio_max,one_job_ratio,python_ratio,skipped\n";
  for (const Line& l : lines) {
    const Regime& r = *l.regime;
    const Contender& base = r.contenders[0];
    const Contender& pcopy = r.contenders[1];
    int failures = 0;
    for (const Contender& c : r.contenders) failures += c.failures;
    const size_t runs = static_cast<size_t>(
        std::count_if(pcopy.seconds.begin(), pcopy.seconds.end(), [](double s) { return s > 0; }));
    csv << '"' << r.name << "\",\"" << base.name << "\",\"" << pcopy.name << "\"," << runs << ','
        << failures << ',' << l.baseline_s << ',' << l.pcopy_s << ',' << l.ratio << ','
        << l.ratio_min << ',' << l.ratio_max << ',' << l.one_job << ',' << l.python << ",\""
        << r.skipped << "\"\n";
  }
  return csv.str();
}

void Plot(const std::vector<Line>& lines, const std::string& out_dir) {
  std::ostringstream data, script;
  for (const Line& l : lines) {
    if (l.ratio <= 0) continue;
    data << '"' << l.regime->name << "\" " << l.ratio << ' ' << l.ratio_min << ' ' << l.ratio_max
         << "\n";
  }
  const std::string dat = out_dir + "/scoreboard.dat";
  script << "set terminal pngcairo size 1000,600\nset output '" << out_dir
         << "/scoreboard.png'\nset title 'default pcopy against its baseline: baseline time / "
            "pcopy time, same round (median, bars min-max)'\nset ylabel 'ratio (above 1: pcopy "
            "faster)'\nset yrange [0:*]\nset xtics rotate by -30\nset grid y\nset boxwidth 0.6\n"
            "set style fill solid 0.4\nset key left top\nplot '"
         << dat << "' using 0:2:xtic(1) with boxes title 'median', '" << dat
         << "' using 0:2:3:4 with yerrorbars lc 'black' pt 0 title 'min-max', 1 with lines "
            "dashtype 2 lc 'red' title '1.0: as fast as the baseline'\n";
  Gnuplot(out_dir, "scoreboard", data.str(), script.str());
}

}  // namespace

bool WriteScoreboard(const std::vector<Regime>& regimes, const std::string& conditions,
                     const std::string& out_dir) {
  std::vector<Line> lines;
  for (const Regime& r : regimes) lines.push_back(Summarize(r));
  const std::string md = Markdown(lines, conditions);
  printf("\n%s", md.c_str());
  mkdir(out_dir.c_str(), 0755);
  const bool ok = WriteText(out_dir + "/scoreboard.md", md) &&
                  WriteText(out_dir + "/scoreboard.csv", Csv(lines));
  Plot(lines, out_dir);
  printf("pcopy-bench: scoreboard in %s/scoreboard.{md,csv,png}\n", out_dir.c_str());
  return ok;
}

}  // namespace lab
