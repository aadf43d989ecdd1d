// lab_report.cc: turns the lab's timings into a Markdown table (printed and written), CSV, JSON
// and a PNG plot of throughput against jobs, one line per strategy with min-max bars (gnuplot,
// when installed); the text and plot writers the scoreboard's report shares.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "lab.h"

namespace lab {
namespace {

struct Row {
  const Tool* tool;
  double median_gbps, min_gbps, max_gbps, median_ratio, best_ratio, pct_ceiling;
  double python_ratio;  // 0 when the Python exercise did not run
};

std::vector<Row> Summarize(const std::vector<Tool>& tools, const Ceilings& c,
                           const Conditions& cond) {
  std::vector<Row> rows;
  const double gb = static_cast<double>(cond.size) / 1e9;
  double cp_best = 0;
  for (const Tool& t : tools) {
    if (t.name == "cp" && !t.seconds.empty()) {
      cp_best = *std::min_element(t.seconds.begin(), t.seconds.end());
    }
  }
  const double ceiling = cond.cold ? c.direct_read_gbps : c.memcpy_gbps;
  for (const Tool& t : tools) {
    if (t.seconds.empty()) continue;
    const auto [lo, hi] = std::minmax_element(t.seconds.begin(), t.seconds.end());
    Row r{};
    r.tool = &t;
    r.median_gbps = gb / Median(t.seconds);
    r.min_gbps = gb / *hi;
    r.max_gbps = gb / *lo;
    r.median_ratio = Median(t.ratio_to_cp);
    r.best_ratio = cp_best > 0 ? cp_best / *lo : 0;
    r.pct_ceiling = ceiling > 0 ? 100 * r.median_gbps / ceiling : 0;
    r.python_ratio = t.ratio_to_python.empty() ? 0 : Median(t.ratio_to_python);
    rows.push_back(r);
  }
  return rows;
}

std::string ConditionsLine(const Conditions& c, const Ceilings& ceil) {
  char memory[160];
  if (c.memory == "fresh") {
    snprintf(memory, sizeof memory, "written into memory freed %.0f s before the run (fresh)",
             c.settle);
  } else if (c.memory == "prefault") {
    snprintf(memory, sizeof memory, "written into just-backed memory (prefault)");
  } else {
    snprintf(memory, sizeof memory,
             "written into the memory freed by removing the previous copy just before (reused)");
  }
  char buf[768];
  snprintf(buf, sizeof buf,
           "%.2f GiB file in %s, %d interleaved rounds; source %s; destination a new file each "
           "run, %s; %s; slow worker x%.1f. Ceilings: memcpy %.2f GB/s, O_DIRECT read %.2f GB/s, "
           "O_DIRECT write %.2f GB/s.",
           static_cast<double>(c.size) / (1 << 30), c.dir.c_str(), c.rounds,
           c.cold ? "cold (caches dropped before each run)" : "hot (read before each run)", memory,
           c.fsync ? "pcopy with --fsync" : "no fsync", c.slow_worker, ceil.memcpy_gbps,
           ceil.direct_read_gbps, ceil.direct_write_gbps);
  return buf;
}

std::string Markdown(const std::vector<Row>& rows, const Conditions& cond, const Ceilings& ceil) {
  std::ostringstream md;
  md << ConditionsLine(cond, ceil) << "\n\n"
     << "| tool | median GB/s | min | max | ratio to cp (median of same-round) | best-run "
        "ratio to cp | ratio to python (median of same-round) | % of ceiling |\n"
        "|---|---|---|---|---|---|---|---|\n";
  char buf[320], python[32];
  for (const Row& r : rows) {
    if (r.python_ratio > 0) {
      snprintf(python, sizeof python, "%.2fx", r.python_ratio);
    } else {
      snprintf(python, sizeof python, "-");
    }
    snprintf(buf, sizeof buf, "| %s | %.2f | %.2f | %.2f | %.2fx | %.2fx | %s | %.0f%% |\n",
             r.tool->name.c_str(), r.median_gbps, r.min_gbps, r.max_gbps, r.median_ratio,
             r.best_ratio, python, r.pct_ceiling);
    md << buf;
  }
  return md.str();
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

void Plot(const std::vector<Row>& rows, const std::string& out_dir) {
  // One series per strategy: median GB/s against jobs with min-max bars (runs here vary
  // several-fold, and a median alone hides it), for the first chunk size and method.
  std::map<std::string, std::map<unsigned, const Row*>> series;
  std::string chunk, method, buffer;
  for (const Row& r : rows) {
    const Tool& t = *r.tool;
    if (!t.is_pcopy) continue;
    if (chunk.empty()) chunk = t.chunk, method = t.method, buffer = t.buffer;
    if (t.chunk == chunk && t.method == method && t.buffer == buffer) {
      series[t.strategy][t.jobs] = &r;
    }
  }
  std::ostringstream data, script;
  script << "set terminal pngcairo size 900,560\nset output '" << out_dir
         << "/throughput.png'\nset title 'pcopy throughput (median GB/s, bars min-max), chunk "
         << chunk << ", method " << method << ", buffer " << buffer
         << "'\nset xlabel 'jobs'\nset ylabel 'GB/s'\n"
         << "set logscale x 2\nset yrange [0:*]\nset key left bottom\nset grid\nplot ";
  size_t index = 0;
  for (const auto& [strategy, points] : series) {
    for (const auto& [jobs, r] : points) {
      data << jobs << " " << r->median_gbps << " " << r->min_gbps << " " << r->max_gbps << "\n";
    }
    data << "\n\n";
    script << (index ? ", " : "") << "'" << out_dir << "/throughput.dat' index " << index
           << " with yerrorlines title '" << strategy << "'";
    ++index;
  }
  for (const Row& r : rows) {
    if (r.tool->name != "cp") continue;
    script << (index ? ", " : "") << r.median_gbps << " title 'cp median' dashtype 2 lc 'black', "
           << r.min_gbps << " title 'cp min, max' dashtype 3 lc 'gray', " << r.max_gbps
           << " notitle dashtype 3 lc 'gray'";
  }
  script << "\n";
  Gnuplot(out_dir, "throughput", data.str(), script.str());
}

}  // namespace

bool WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

bool Gnuplot(const std::string& out_dir, const std::string& name, const std::string& data,
             const std::string& script) {
  if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
    printf("pcopy-bench: gnuplot not installed; no plot\n");
    return false;
  }
  const std::string base = out_dir + "/" + name;
  if (WriteText(base + ".dat", data) && WriteText(base + ".gp", script) &&
      system(("gnuplot '" + base + ".gp'").c_str()) == 0) {
    printf("pcopy-bench: plot written to %s.png\n", base.c_str());
    return true;
  }
  printf("pcopy-bench: gnuplot failed; no plot\n");
  return false;
}

bool Report(const std::vector<Tool>& tools, const Ceilings& ceilings, const Conditions& cond,
            const std::string& out_dir) {
  const std::vector<Row> rows = Summarize(tools, ceilings, cond);
  const std::string md = Markdown(rows, cond, ceilings);
  printf("\n%s", md.c_str());
  mkdir(out_dir.c_str(), 0755);

  std::ostringstream csv;
  csv << "tool,strategy,jobs,chunk,method,buffer,runs,failures,median_gbps,min_gbps,max_gbps,"
         "median_ratio_to_cp,best_ratio_to_cp,pct_of_ceiling,median_ratio_to_python\n";
  std::ostringstream json;
  json << "{\n  \"conditions\": " << JsonString(ConditionsLine(cond, ceilings))
       << ",\n  \"size_bytes\": " << cond.size << ",\n  \"rounds\": " << cond.rounds
       << ",\n  \"cold\": " << (cond.cold ? "true" : "false")
       << ",\n  \"memory\": " << JsonString(cond.memory)
       << ",\n  \"ceilings_gbps\": {\"memcpy\": " << ceilings.memcpy_gbps
       << ", \"direct_read\": " << ceilings.direct_read_gbps
       << ", \"direct_write\": " << ceilings.direct_write_gbps << "},\n  \"results\": [";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const Tool& t = *r.tool;
    csv << '"' << t.name << "\"," << t.strategy << ',' << t.jobs << ',' << t.chunk << ','
        << t.method << ',' << t.buffer << ',' << t.seconds.size() << ',' << t.failures << ','
        << r.median_gbps << ',' << r.min_gbps << ',' << r.max_gbps << ',' << r.median_ratio << ','
        << r.best_ratio << ',' << r.pct_ceiling << ',' << r.python_ratio << "\n";
    json << (i ? "," : "") << "\n    {\"tool\": " << JsonString(t.name)
         << ", \"strategy\": " << JsonString(t.strategy) << ", \"jobs\": " << t.jobs
         << ", \"chunk\": " << JsonString(t.chunk) << ", \"method\": " << JsonString(t.method)
         << ", \"buffer\": " << JsonString(t.buffer) << ", \"seconds\": [";
    for (size_t k = 0; k < t.seconds.size(); ++k) json << (k ? ", " : "") << t.seconds[k];
    json << "], \"median_gbps\": " << r.median_gbps
         << ", \"median_ratio_to_cp\": " << r.median_ratio
         << ", \"best_ratio_to_cp\": " << r.best_ratio << ", \"pct_of_ceiling\": " << r.pct_ceiling
         << ", \"median_ratio_to_python\": " << r.python_ratio << "}";
  }
  json << "\n  ]\n}\n";
  const bool ok = WriteText(out_dir + "/results.md", md) &&
                  WriteText(out_dir + "/results.csv", csv.str()) &&
                  WriteText(out_dir + "/results.json", json.str());
  Plot(rows, out_dir);
  printf("pcopy-bench: results in %s/results.{md,csv,json}\n", out_dir.c_str());
  return ok;
}

}  // namespace lab
