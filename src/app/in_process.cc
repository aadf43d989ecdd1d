#include "app/in_process.h"

#include "exec/in_process_executor.h"

namespace pcopy {

unsigned WorkersFor(const Options& o, uint64_t bytes) {
  return !o.jobs_given && bytes < kInProcessBelow ? 0 : o.jobs;
}

}  // namespace pcopy
