// pacer_test.cc: --slow-worker and --bwlimit pacing against a fake clock whose sleeps overshoot,
// as real short sleeps do.
#include "copy/pacer.h"

#include <gtest/gtest.h>

#include <chrono>

namespace pcopy::test {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

// Fake time: Work() advances it as copying would; every sleep lasts what was asked plus an
// overshoot.
struct FakeTime {
  nanoseconds now{0};
  nanoseconds overshoot{0};
  int sleeps = 0;
  nanoseconds slept{0};
};
FakeTime g;

const PacerClock kFakeClock{[] { return g.now; },
                            [](nanoseconds d) {
                              ++g.sleeps;
                              g.now += d + g.overshoot;
                              g.slept += d + g.overshoot;
                            }};

class PacerTest : public ::testing::Test {
 protected:
  void SetUp() override { g = FakeTime{}; }
};

// 1000 pieces of 10 us each (32 KiB at about 3 GB/s) with a 60 us overshoot per sleep: a factor
// of 4 must make them take 4 times as long in total, not 10.
TEST_F(PacerTest, SlowFactorHoldsWithShortPiecesAndOvershootingSleeps) {
  g.overshoot = microseconds(60);
  Pacer pacer(0, 4.0, kFakeClock);
  for (int i = 0; i < 1000; ++i) {
    g.now += microseconds(10);
    pacer.Account(32 << 10);
  }
  const double total_ms = std::chrono::duration<double, std::milli>(g.now).count();
  EXPECT_NEAR(total_ms, 40.0, 1.0) << "10 ms of work at factor 4";
  // Sleeps are saved up to at least a millisecond, so there are few of them.
  EXPECT_LE(g.sleeps, 31);
  EXPECT_GE(g.sleeps, 20);
}

TEST_F(PacerTest, FactorOneNeverSleeps) {
  Pacer pacer(0, 1.0, kFakeClock);
  for (int i = 0; i < 100; ++i) {
    g.now += milliseconds(5);
    pacer.Account(1 << 20);
  }
  EXPECT_EQ(g.sleeps, 0);
  EXPECT_EQ(g.now, milliseconds(500));
}

// --bwlimit: 1024 pieces of 32 KiB at 32 MiB/s take one second, however fast the copying is,
// and an overshooting sleep is made up by the next pieces.
TEST_F(PacerTest, RateLimitHoldsOnAverage) {
  g.overshoot = microseconds(200);
  Pacer pacer(32ull << 20, 1.0, kFakeClock);
  for (int i = 0; i < 1024; ++i) {
    g.now += microseconds(10);
    pacer.Account(32 << 10);
  }
  const double total_ms = std::chrono::duration<double, std::milli>(g.now).count();
  EXPECT_NEAR(total_ms, 1000.0, 1.0);
}

// A slowed worker under a rate limit is FACTOR times slower than its paced self: the rate is not
// raised to make up for the slow-worker sleeps, which come on top of it.
TEST_F(PacerTest, RateAndSlowFactorTogether) {
  Pacer pacer(10ull << 20, 2.0, kFakeClock);  // 10 MiB/s
  for (int i = 0; i < 100; ++i) {
    g.now += milliseconds(10);  // 1 MiB per 10 ms of work: 100 MiB/s unpaced
    pacer.Account(1 << 20);
  }
  // 100 MiB at 10 MiB/s is 10 s of paced time; a factor of 2 doubles it.
  const double total_s = std::chrono::duration<double>(g.now).count();
  EXPECT_NEAR(total_s, 20.0, 0.1);
}

}  // namespace
}  // namespace pcopy::test
