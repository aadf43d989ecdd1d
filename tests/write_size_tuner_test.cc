// The write size tuner against simulated machines: a rate for each write size, changed at will,
// and the chunks it would copy. No clock and no file: the tuner is pure logic.
#include "copy/write_size_tuner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <vector>

namespace pcopy {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kChunk = 1024 * kKiB;

// Copies `chunks` chunks of kChunk through tuner on a machine whose rate (bytes per ns) at each
// write size is rate(size, chunk number); counts the chunks at each size and keeps every switch.
struct Simulation {
  WriteSizeTuner tuner;
  std::map<uint64_t, int> chunks_at;
  std::vector<WriteSizeTuner::Switch> switches;
  uint64_t chunk = 0;

  Simulation(uint64_t min, uint64_t max) : tuner(min, max) {}
  void Run(int chunks, const std::function<double(uint64_t size, uint64_t chunk)>& rate) {
    for (int i = 0; i < chunks; ++i, ++chunk) {
      const uint64_t size = tuner.Next();
      ++chunks_at[size];
      const double r = rate(size, chunk);
      const auto ns = static_cast<uint64_t>(static_cast<double>(kChunk) / r);
      if (auto s = tuner.Record(kChunk, ns)) switches.push_back(*s);
    }
  }
  int probes_other_than(uint64_t size) const {
    int n = 0;
    for (const auto& [s, count] : chunks_at) n += s == size ? 0 : count;
    return n;
  }
};

TEST(WriteSizeTuner, StaysAtTheMinimumWhereNoSizeIsFaster) {
  Simulation sim(32 * kKiB, 1024 * kKiB);
  sim.Run(1000, [](uint64_t, uint64_t) { return 2.0; });
  EXPECT_EQ(sim.tuner.current(), 32 * kKiB);
  EXPECT_TRUE(sim.switches.empty());
  // Only the neighbour is probed, and less and less often: 2 probes per round, rounds 16, 32,
  // 64, ... then every 512 chunks.
  EXPECT_EQ(sim.chunks_at.size(), 2u);
  EXPECT_GT(sim.chunks_at[64 * kKiB], 4);
  EXPECT_LT(sim.chunks_at[64 * kKiB], 20);
}

TEST(WriteSizeTuner, ClimbsToTheFastestSizeAndStays) {
  Simulation sim(32 * kKiB, 1024 * kKiB);
  // Faster with each doubling up to 256 KiB, slower beyond.
  auto rate = [](uint64_t size, uint64_t) {
    const std::map<uint64_t, double> r = {{32 * kKiB, 1.0},  {64 * kKiB, 1.5},  {128 * kKiB, 2.2},
                                          {256 * kKiB, 3.0}, {512 * kKiB, 2.0}, {1024 * kKiB, 1.0}};
    return r.at(size);
  };
  sim.Run(400, rate);
  EXPECT_EQ(sim.tuner.current(), 256 * kKiB);
  ASSERT_EQ(sim.switches.size(), 3u);
  for (size_t i = 0; i < sim.switches.size(); ++i) {
    EXPECT_EQ(sim.switches[i].from, (32 * kKiB) << i);
    EXPECT_EQ(sim.switches[i].to, (64 * kKiB) << i);
    EXPECT_FALSE(sim.switches[i].stalled);
    EXPECT_GT(sim.switches[i].to_rate, WriteSizeTuner::kSwitchGain * sim.switches[i].from_rate);
  }
  EXPECT_NEAR(sim.switches[0].from_rate, 1e9, 1e6);  // bytes per second
  EXPECT_EQ(sim.chunks_at.count(1024 * kKiB), 0u) << "1 MiB is two steps past the best";
  EXPECT_GT(sim.chunks_at[256 * kKiB], 250);
}

TEST(WriteSizeTuner, GainsBelowTheThresholdDoNotSwitch) {
  Simulation sim(32 * kKiB, 1024 * kKiB);
  sim.Run(500, [](uint64_t size, uint64_t) { return size == 32 * kKiB ? 1.0 : 1.1; });
  EXPECT_EQ(sim.tuner.current(), 32 * kKiB);
  EXPECT_TRUE(sim.switches.empty());
}

// A size that was fastest stalls (the rate of every size above the minimum falls to a tenth):
// the tuner leaves it for the minimum after two slow chunks, not one step at a time.
TEST(WriteSizeTuner, FallsBackToTheMinimumAtOnceWhenTheSizeStalls) {
  Simulation sim(32 * kKiB, 1024 * kKiB);
  uint64_t stall_from = UINT64_MAX;
  auto rate = [&](uint64_t size, uint64_t chunk) {
    const double fast = size == 32 * kKiB ? 1.0 : 2.0 * static_cast<double>(size / (64 * kKiB));
    return chunk >= stall_from && size > 32 * kKiB ? fast / 10 : fast;
  };
  sim.Run(300, rate);
  const uint64_t before = sim.tuner.current();
  ASSERT_GT(before, 32 * kKiB);
  const size_t switches_before = sim.switches.size();
  stall_from = sim.chunk;
  sim.Run(3, rate);  // two chunks at the stalled size, and perhaps one probe among them
  EXPECT_EQ(sim.tuner.current(), 32 * kKiB);
  ASSERT_EQ(sim.switches.size(), switches_before + 1);
  const WriteSizeTuner::Switch& s = sim.switches.back();
  EXPECT_TRUE(s.stalled);
  EXPECT_EQ(s.from, before);
  EXPECT_EQ(s.to, 32 * kKiB);
  // Still slow above the minimum: the tuner stays down, probing rarely.
  sim.chunks_at.clear();
  sim.Run(1000, rate);
  EXPECT_EQ(sim.tuner.current(), 32 * kKiB);
  EXPECT_LT(sim.probes_other_than(32 * kKiB), 20);
}

TEST(WriteSizeTuner, OneSlowChunkIsNotAStall) {
  Simulation sim(32 * kKiB, 1024 * kKiB);
  auto rate = [](uint64_t size, uint64_t chunk) {
    const double r = std::min(static_cast<double>(size / (32 * kKiB)), 4.0);  // best: 128 KiB
    return chunk % 50 == 49 ? r / 10 : r;  // a lone hiccup now and then
  };
  sim.Run(600, rate);
  EXPECT_GE(sim.tuner.current(), 128 * kKiB);
  for (const auto& s : sim.switches) EXPECT_FALSE(s.stalled);
}

TEST(WriteSizeTuner, AProbeThatCrawlsIsAbandonedAfterOneChunk) {
  Simulation sim(32 * kKiB, 1024 * kKiB);
  sim.Run(2000, [](uint64_t size, uint64_t) { return size == 32 * kKiB ? 1.0 : 0.05; });
  EXPECT_EQ(sim.tuner.current(), 32 * kKiB);
  // Backed off after each single probe: 8 << 1, << 2, ... up to every 512 chunks.
  EXPECT_LE(sim.probes_other_than(32 * kKiB), 8);
}

TEST(WriteSizeTuner, SizesStayWithinTheBounds) {
  Simulation sim(32 * kKiB, 100 * kKiB);  // 32 and 64 KiB only: 128 KiB would pass 100 KiB
  sim.Run(500, [](uint64_t size, uint64_t) { return static_cast<double>(size); });
  EXPECT_EQ(sim.tuner.current(), 64 * kKiB);
  for (const auto& [size, count] : sim.chunks_at) EXPECT_LE(size, 100 * kKiB);
  Simulation one(32 * kKiB, 32 * kKiB);  // a single size: nothing to probe
  one.Run(100, [](uint64_t, uint64_t) { return 1.0; });
  EXPECT_EQ(one.chunks_at.size(), 1u);
}

TEST(WriteSizeTuner, AZeroTimeIsTakenAsOneNanosecond) {
  WriteSizeTuner tuner(32 * kKiB, 64 * kKiB);
  for (int i = 0; i < 40; ++i) {
    tuner.Next();
    tuner.Record(kChunk, 0);
  }
  EXPECT_EQ(tuner.current(), 32 * kKiB);
}

}  // namespace
}  // namespace pcopy
