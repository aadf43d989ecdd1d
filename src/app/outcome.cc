#include "app/outcome.h"

namespace pcopy {

CopyOutcome FailedWithException(const char* what) noexcept {
  if (what == nullptr) return CopyOutcome{Status::Message("out of memory"), kExitFailure, {}};
  try {
    return CopyOutcome{Status::Message(std::string("unexpected error: ") + what), kExitFailure, {}};
  } catch (...) {
    return CopyOutcome{Status::Message("out of memory"), kExitFailure, {}};
  }
}

}  // namespace pcopy
