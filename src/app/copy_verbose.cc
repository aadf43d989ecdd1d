#include "app/copy_verbose.h"

#include <cstring>

#include "app/options.h"
#include "base/size_parse.h"
#include "exec/in_process_executor.h"
#include "os/data_extents.h"

namespace pcopy {

std::string DescribeMethod(const ExecResult& r, uint64_t buffer_size) {
  std::string text;
  for (Method m : {Method::kCopyFileRange, Method::kSendfile, Method::kMmap, Method::kDirect,
                   Method::kPread}) {
    if ((r.used_methods & MethodBit(m)) == 0) continue;
    if (!text.empty()) text += ", then ";
    switch (m) {
      case Method::kPread:
        text += "pread/pwrite with " + FormatBytes(buffer_size) + " buffers";
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

void PrintSparse(FILE* out, const std::vector<ByteRange>& extents, uint64_t size) {
  if (extents.size() == 1 && extents[0].length == size) return;
  fprintf(out, "pcopy: sparse: %zu data extent%s, %s of %s; the holes stay holes\n", extents.size(),
          extents.size() == 1 ? "" : "s", FormatBytes(TotalBytes(extents)).c_str(),
          FormatBytes(size).c_str());
}

void PrintPlan(FILE* out, const CopyPlan& plan) {
  fprintf(out, "pcopy: plan: %s, %zu worker%s for %s\n", StrategyName(plan.strategy),
          plan.workers.size(), plan.workers.size() == 1 ? "" : "s", FormatBytes(plan.size).c_str());
  if (plan.self_scheduled()) {
    fprintf(out, "pcopy:   %zu chunk%s taken in order by whichever worker is free, %s to %s\n",
            plan.queue.size(), plan.queue.size() == 1 ? "" : "s", FormatBytes(plan.queue.front().length).c_str(),
            FormatBytes(plan.queue.back().length).c_str());
    return;
  }
  constexpr size_t kShown = 16;
  for (size_t i = 0; i < plan.workers.size() && i < kShown; ++i) {
    const auto& ranges = plan.workers[i].ranges;
    fprintf(out, "pcopy:   worker %zu: %zu range%s, bytes %llu-%llu (%s)\n", i, ranges.size(),
            ranges.size() == 1 ? "" : "s", static_cast<unsigned long long>(ranges.front().offset),
            static_cast<unsigned long long>(ranges.back().end() - 1),
            FormatBytes(plan.workers[i].bytes()).c_str());
  }
  if (plan.workers.size() > kShown) {
    fprintf(out, "pcopy:   ... and %zu more workers\n", plan.workers.size() - kShown);
  }
}

void PrintInProcess(FILE* out, uint64_t data) {
  fprintf(out, "pcopy: %s of data, under %s: copied by this process, no worker forked\n",
          FormatBytes(data).c_str(), FormatBytes(kInProcessBelow).c_str());
}

}  // namespace pcopy
