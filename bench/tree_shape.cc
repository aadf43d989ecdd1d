#include "tree_shape.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

namespace tree {
namespace {

constexpr std::array<const char*, 16> kWords = {"core", "net",  "util", "fs",         "io",  "base",
                                                "test", "docs", "lib",  "src",        "api", "impl",
                                                "drv",  "arch", "tool", "third_party"};
constexpr std::array<const char*, 10> kExtensions = {".c",  ".h",  ".cc",   ".py", ".txt",
                                                     ".md", ".rs", ".json", ".go", ""};
// Modification times: whole seconds within three years from September 2020, so that a copy
// that keeps them (cp -a, rsync -a, tar) can be checked to the second.
constexpr int64_t kEpoch = 1'600'000'000;
constexpr uint64_t kMtimeSpan = 3ull * 365 * 86400;

constexpr uint64_t kSmallFiles = 100'000;
constexpr uint64_t kMixedSmallFiles = 20'000;
constexpr uint64_t kMillionFiles = 1'000'000;
constexpr uint64_t kMiB = 1 << 20;

uint64_t Mix(uint64_t x) { return Rng(x).Next(); }

uint64_t Scaled(uint64_t n, double scale) {
  return static_cast<uint64_t>(std::llround(static_cast<double>(n) * scale));
}

int64_t Mtime(Rng& rng) { return kEpoch + static_cast<int64_t>(rng.Below(kMtimeSpan)); }

// Log-uniform in [kMinFanout, kMaxFanout]: as many directories of 10-30 files as of 300-1000.
uint32_t Fanout(Rng& rng) {
  const double lo = std::log(kMinFanout), hi = std::log(kMaxFanout + 1.0);
  const double n = std::exp(lo + (hi - lo) * rng.Uniform());
  return std::clamp(static_cast<uint32_t>(n), kMinFanout, kMaxFanout);
}

uint64_t SmallSize(Rng& rng) {
  if (rng.Below(100) == 0) return 0;  // source trees hold a few empty files (__init__.py)
  const double size = kMedianSize * std::exp(kSigma * rng.Normal());
  return std::min(static_cast<uint64_t>(size), kMaxSmallSize);
}

// How many files each directory of a small tree holds; a short last directory is folded into
// the one before when that stays within kMaxFanout.
std::vector<uint32_t> DirectoryLoads(Rng& rng, uint64_t files) {
  std::vector<uint32_t> loads;
  for (uint64_t left = files; left > 0;) {
    const auto n = static_cast<uint32_t>(std::min<uint64_t>(Fanout(rng), left));
    loads.push_back(n);
    left -= n;
  }
  if (loads.size() > 1 && loads.back() < kMinFanout &&
      loads[loads.size() - 2] + loads.back() <= kMaxFanout) {
    loads[loads.size() - 2] += loads.back();
    loads.pop_back();
  }
  return loads;
}

// Adds `files` small files (empty ones if `empty`) under plan.dirs[0]: the root takes the first
// directory's load, and each further directory hangs below an earlier one, chosen so that a
// directory has about 4 to 16 subdirectories and the tree stays a few levels deep.
void AddSmallTree(TreePlan& plan, Rng& rng, uint64_t files, bool empty) {
  const std::vector<uint32_t> loads = DirectoryLoads(rng, files);
  std::vector<uint32_t> dir_of(loads.size());
  dir_of[0] = 0;
  for (size_t j = 1; j < loads.size(); ++j) {
    const uint64_t lo = (j - 1) / 16, hi = (j - 1) / 4;
    const uint32_t parent = dir_of[lo + rng.Below(hi - lo + 1)];
    const std::string& base = plan.dirs[parent].path;
    // "net12": never a file's name, which always has "_" before its number (FilePath).
    const std::string name = std::string(kWords[rng.Below(kWords.size())]) + std::to_string(j);
    dir_of[j] = static_cast<uint32_t>(plan.dirs.size());
    plan.dirs.push_back({base.empty() ? name : base + "/" + name, Mtime(rng)});
  }
  for (size_t j = 0; j < loads.size(); ++j) {
    for (uint32_t k = 0; k < loads[j]; ++k) {
      const uint64_t size = empty ? 0 : SmallSize(rng);
      plan.files.push_back({dir_of[j], size, Mtime(rng)});
      plan.bytes += size;
    }
  }
}

void AddLargeFiles(TreePlan& plan, Rng& rng, int count, uint64_t size) {
  for (int i = 0; i < count; ++i) {
    plan.files.push_back({0, size, Mtime(rng)});
    plan.bytes += size;
  }
}

}  // namespace

uint64_t Rng::Next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Rng::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

uint64_t Rng::Below(uint64_t n) { return Next() % n; }

double Rng::Normal() {
  const double u = 1.0 - Uniform();  // (0, 1]: log(u) is finite
  return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * std::numbers::pi * Uniform());
}

std::optional<Shape> ParseShape(std::string_view name) {
  if (name == "a") return Shape::kSmall;
  if (name == "b") return Shape::kLarge;
  if (name == "c") return Shape::kMixed;
  if (name == "million") return Shape::kMillion;
  return std::nullopt;
}

TreePlan PlanTree(Shape shape, uint64_t seed, double scale) {
  Rng rng(seed);
  TreePlan plan;
  plan.dirs.push_back({"", Mtime(rng)});
  const auto small = [&](uint64_t n, bool empty) {
    AddSmallTree(plan, rng, std::max<uint64_t>(1, Scaled(n, scale)), empty);
  };
  switch (shape) {
    case Shape::kSmall:
      small(kSmallFiles, false);
      break;
    case Shape::kLarge:
      AddLargeFiles(plan, rng, 8, Scaled(512 * kMiB, scale));
      break;
    case Shape::kMixed:
      AddLargeFiles(plan, rng, 2, Scaled(1024 * kMiB, scale));
      small(kMixedSmallFiles, false);
      break;
    case Shape::kMillion:
      small(kMillionFiles, true);
      break;
  }
  return plan;
}

std::string FilePath(const TreePlan& plan, size_t i) {
  const uint64_t h = Mix(i);
  std::string name = std::string(kWords[h % kWords.size()]) + "_" + std::to_string(i) +
                     kExtensions[(h >> 8) % kExtensions.size()];
  const std::string& dir = plan.dirs[plan.files[i].dir].path;
  return dir.empty() ? name : dir + "/" + name;
}

}  // namespace tree
