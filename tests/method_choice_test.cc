// method_choice_test.cc: when --method auto tunes the write size of a one-file copy, and why not.
#include "app/method_choice.h"

#include <gtest/gtest.h>

#include <string>

namespace pcopy {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

TEST(UntunedBecause, TunesAHotSourceOfUpToTwoGiB) {
  const Options o;
  EXPECT_EQ(UntunedBecause(o, 1.0, kGiB), nullptr);
  EXPECT_EQ(UntunedBecause(o, kHotSourceShare, kMaxTunedCopy), nullptr);
}

TEST(UntunedBecause, AColdSourceOrALargeCopyKeepsTheMinimum) {
  const Options o;
  EXPECT_STREQ(UntunedBecause(o, kHotSourceShare / 2, kGiB),
               "SOURCE is mostly on storage, reading sets the pace");
  EXPECT_STREQ(UntunedBecause(o, 1.0, kMaxTunedCopy + 1),
               "over 2 GiB of data, where larger writes early slowed the rest");
}

// Options that pin the size need no reason: the size is the user's.
TEST(UntunedBecause, PinnedSizesNeedNoReason) {
  Options sized;
  sized.buffer_size_given = true;
  Options paced;
  paced.bwlimit = 1 << 20;
  Options method;
  method.method = Method::kPread;
  for (const Options* o : {&sized, &paced, &method}) {
    EXPECT_FALSE(TunesWriteSize(*o));
    EXPECT_EQ(UntunedBecause(*o, 0.0, 4 * kGiB), nullptr);
  }
}

}  // namespace
}  // namespace pcopy
