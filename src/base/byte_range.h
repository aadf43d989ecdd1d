// byte_range.h: a span of bytes of one file, [offset, offset + length). The one currency of the
// layers that talk about parts of a file: the data extents the os layer finds (os/data_extents.h)
// and the ranges the plan hands to workers (plan/plan.h).
#pragma once

#include <cstdint>

namespace pcopy {

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t end() const { return offset + length; }
  bool operator==(const ByteRange&) const = default;
};

}  // namespace pcopy
