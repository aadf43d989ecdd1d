// copy_verbose.h: what -v prints about one file's copy before and after it runs: the plan, the
// data of a sparse SOURCE, and the methods that moved the bytes, in words.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "base/byte_range.h"
#include "exec/executor.h"
#include "plan/plan.h"

namespace pcopy {

// "pread/pwrite with 32.00 KiB buffers", "copy_file_range, then pread/pwrite ... (copy_file_range:
// Invalid cross-device link)": every method that moved bytes, in the order they are tried.
std::string DescribeMethod(const ExecResult& r, uint64_t buffer_size);

// -v for a SOURCE with holes: how much of it is data, in how many extents.
void PrintSparse(FILE* out, const std::vector<ByteRange>& extents, uint64_t size);

// -v: the strategy, the workers and what each is given.
void PrintPlan(FILE* out, const CopyPlan& plan);

// -v for a copy this process makes itself: why no worker is forked.
void PrintInProcess(FILE* out, uint64_t data);

}  // namespace pcopy
