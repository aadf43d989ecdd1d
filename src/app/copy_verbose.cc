#include "app/copy_verbose.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "app/options.h"
#include "base/program_name.h"
#include "base/size_parse.h"
#include "copy/write_size_tuner.h"
#include "exec/in_process_executor.h"
#include "exec/worker_slots.h"
#include "os/data_extents.h"
#include "os/page_cache.h"

namespace pcopy {
namespace {

// "15%": how much faster a size must measure to be switched to.
std::string GainWords() {
  return std::to_string(std::lround((WriteSizeTuner::kSwitchGain - 1) * 100)) + "%";
}

bool AnyProbed(const std::vector<WriteSizeReport>& reports) {
  return std::any_of(reports.begin(), reports.end(),
                     [](const WriteSizeReport& r) { return r.probes > 0; });
}

// " with 32.0 KiB buffers", or where the size was tuned " with writes tuned per chunk (128 KiB,
// 64.0 KiB at the end)": each worker's size at the end, each size once, in worker order.
std::string WriteSizeWords(const std::vector<WriteSizeReport>& reports, uint64_t buffer_size) {
  const std::string fixed = " with " + FormatBytes(buffer_size) + " buffers";
  if (reports.empty()) return fixed;
  if (!AnyProbed(reports)) return fixed + " (too few chunks to tune them)";
  std::vector<uint64_t> seen;
  std::string sizes;
  for (const WriteSizeReport& r : reports) {
    if (std::find(seen.begin(), seen.end(), r.size) != seen.end()) continue;
    seen.push_back(r.size);
    sizes += (sizes.empty() ? "" : ", ") + FormatBytes(r.size);
  }
  return " with writes tuned per chunk (" + sizes + " at the end)";
}

}  // namespace

std::string DescribeMethod(const ExecResult& r, uint64_t buffer_size) {
  std::string text;
  for (Method m : {Method::kCopyFileRange, Method::kSendfile, Method::kMmap, Method::kDirect,
                   Method::kPread}) {
    if ((r.used_methods & MethodBit(m)) == 0) continue;
    if (!text.empty()) text += ", then ";
    switch (m) {
      case Method::kPread:
        text += "pread/pwrite" + WriteSizeWords(r.write_sizes, buffer_size);
        break;
      case Method::kMmap:
        text += "mmap + pwrite";
        break;
      case Method::kDirect:
        text += "O_DIRECT pread/pwrite";
        break;
      default:
        text += MethodName(m);
    }
  }
  if (r.fallback_errno == 0) text += " (copy_file_range copied nothing)";
  if (r.fallback_errno > 0)
    text += std::string(" (copy_file_range: ") + strerror(r.fallback_errno) + ")";
  return text;
}

std::string DescribeTreeMethods(uint32_t used, const std::vector<WriteSizeReport>& write_sizes,
                                uint64_t buffer_size) {
  ExecResult r;
  r.used_methods = used & ~kClonedBit;
  r.write_sizes = write_sizes;
  std::string text = (used & kClonedBit) != 0 ? "clones (shared extents)" : "";
  if (r.used_methods != 0) text += (text.empty() ? "" : ", then ") + DescribeMethod(r, buffer_size);
  return text;
}

void PrintSparse(FILE* out, const std::vector<ByteRange>& extents, uint64_t size) {
  if (extents.size() == 1 && extents[0].length == size) return;
  fprintf(out, "%s: sparse: %zu data extent%s, %s of %s; the holes stay holes\n", ProgramName(),
          extents.size(), extents.size() == 1 ? "" : "s", FormatBytes(TotalBytes(extents)).c_str(),
          FormatBytes(size).c_str());
}

void PrintPlan(FILE* out, const CopyPlan& plan) {
  fprintf(out, "%s: plan: %s, %zu worker%s for %s\n", ProgramName(), StrategyName(plan.strategy),
          plan.workers.size(), plan.workers.size() == 1 ? "" : "s", FormatBytes(plan.size).c_str());
  if (plan.self_scheduled()) {
    fprintf(out, "%s:   %zu chunk%s taken in order by whichever worker is free, %s to %s\n",
            ProgramName(), plan.queue.size(), plan.queue.size() == 1 ? "" : "s",
            FormatBytes(plan.queue.front().length).c_str(),
            FormatBytes(plan.queue.back().length).c_str());
    return;
  }
  constexpr size_t kShown = 16;
  for (size_t i = 0; i < plan.workers.size() && i < kShown; ++i) {
    const auto& ranges = plan.workers[i].ranges;
    fprintf(out, "%s:   worker %zu: %zu range%s, bytes %llu-%llu (%s)\n", ProgramName(), i,
            ranges.size(), ranges.size() == 1 ? "" : "s",
            static_cast<unsigned long long>(ranges.front().offset),
            static_cast<unsigned long long>(ranges.back().end() - 1),
            FormatBytes(plan.workers[i].bytes()).c_str());
  }
  if (plan.workers.size() > kShown) {
    fprintf(out, "%s:   ... and %zu more workers\n", ProgramName(), plan.workers.size() - kShown);
  }
}

void PrintCacheShare(FILE* out, const std::optional<CacheShare>& share, uint64_t read_ahead) {
  if (!share) return;
  fprintf(out, "%s: SOURCE: %.0f%% of %s in the page cache (%s)%s\n", ProgramName(),
          share->fraction() * 100, FormatBytes(share->size).c_str(), share->how,
          read_ahead == 0 ? ""
                          : ("; each worker asks the kernel to read " + FormatBytes(read_ahead) +
                             " ahead of the chunk it takes")
                                .c_str());
}

void PrintInProcess(FILE* out, uint64_t data) {
  fprintf(out, "%s: %s of data, under %s: copied by this process, no worker forked\n",
          ProgramName(), FormatBytes(data).c_str(), FormatBytes(kInProcessBelow).c_str());
}

void PrintWriteSizes(FILE* out, const std::vector<WriteSizeReport>& reports, uint64_t budget) {
  if (!AnyProbed(reports)) return;  // DescribeMethod said so
  for (size_t i = 0; i < reports.size(); ++i) {
    const WriteSizeReport& r = reports[i];
    const std::string probes =
        std::to_string(r.probes) + " probe" + (r.probes == 1 ? "" : "s") + " of other sizes";
    if (r.switches == 0) {
      fprintf(out, "%s: worker %zu: writes of %s throughout (%s)\n", ProgramName(), i,
              FormatBytes(r.size).c_str(),
              r.probes == 0 ? "too few chunks to probe another size"
                            : (probes + ", none " + GainWords() + " faster").c_str());
      continue;
    }
    std::string why = FormatBytes(r.from) + " -> " + FormatBytes(r.size);
    switch (r.why) {
      case WriteSizeReport::kFaster:
        why += ", " + FormatRate(r.to_rate * 1e6) + " against " + FormatRate(r.from_rate * 1e6);
        break;
      case WriteSizeReport::kStalled:
        why = FormatBytes(r.from) + " stalled at " + FormatRate(r.from_rate * 1e6) + " -> " +
              FormatBytes(r.size);
        break;
      case WriteSizeReport::kBudget:
        why += ", its share of the first " + FormatBytes(budget) + " done";
        break;
    }
    fprintf(out,
            "%s: worker %zu: writes of %s at the end, after %u switch%s in %s; the last "
            "after offset %s: %s\n",
            ProgramName(), i, FormatBytes(r.size).c_str(), r.switches, r.switches == 1 ? "" : "es",
            probes.c_str(), FormatBytes(r.at).c_str(), why.c_str());
  }
}

std::string WorkersPhrase(size_t workers, bool ranks, unsigned per_rank) {
  const auto plural = [](size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  if (!ranks) return plural(workers, "worker");
  if (per_rank <= 1) return plural(workers, "rank");
  return plural(workers, "worker") + " on " + plural(workers / per_rank, "rank");
}

std::string DescribeCopied(const CopyReport& r, const CopiedFacts& f) {
  char line[1024];
  if (f.cloned) {
    snprintf(line, sizeof line, "cloned %s in %.3f s, method %s%s%s", FormatBytes(r.bytes).c_str(),
             r.seconds, r.method.c_str(), f.fsync ? ", fsync" : "", f.verified ? ", verified" : "");
    return line;
  }
  const std::string data = f.resumed ? " (" + FormatBytes(f.data_bytes) + " of data now, " +
                                           FormatBytes(f.resumed_bytes) + " resumed)"
                           : f.data_bytes == r.bytes
                               ? ""
                               : " (" + FormatBytes(f.data_bytes) + " of data, the rest holes)";
  const std::string by = r.workers == 0 ? "in this process"
                                        : "with " + std::to_string(r.workers) + " worker" +
                                              (r.workers == 1 ? "" : "s");
  const std::string replaced = r.retried.empty()
                                   ? ""
                                   : ", " + std::to_string(r.retried.size()) + " worker" +
                                         (r.retried.size() == 1 ? "" : "s") + " replaced";
  snprintf(line, sizeof line, "copied %s%s in %.3f s (%s) %s, method %s%s%s%s%s",
           FormatBytes(r.bytes).c_str(), data.c_str(), r.seconds,
           FormatRate(r.seconds > 0 ? static_cast<double>(f.data_bytes) / r.seconds : 0).c_str(),
           by.c_str(), r.method.c_str(), f.fsync ? ", fsync" : "", f.verified ? ", verified" : "",
           replaced.c_str(), f.in_place ? ", in place on a block device" : "");
  return line;
}

}  // namespace pcopy
