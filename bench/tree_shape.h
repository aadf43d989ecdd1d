// tree_shape.h: the plan of a reproducible benchmark tree (bench/tree_gen.cc writes it): which
// directories, which files, how large, with which modification times. A pure function of
// (shape, seed, scale): the same arguments give the same plan on every machine, because every
// random number comes from the generator below, never from <random>'s distributions (whose
// results the standard leaves to each library).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tree {

// The trees: (a) 100,000 small files like a source tree; (b) 8 files of 512 MiB;
// (c) 2 files of 1 GiB beside 20,000 small files; million: 1,000,000 empty files, to measure
// what walking a large tree costs in memory.
enum class Shape { kSmall, kLarge, kMixed, kMillion };
std::optional<Shape> ParseShape(std::string_view name);  // "a", "b", "c" or "million"

// Small-file sizes: log-normal with a median of 4 KiB, capped at 1 MiB; kSigma puts the cap about
// 3.9 standard deviations out, so a tree of 100,000 files has a handful of 1 MiB files.
inline constexpr double kMedianSize = 4096;
inline constexpr uint64_t kMaxSmallSize = 1 << 20;
inline constexpr double kSigma = 1.4;
// Files per directory: log-uniform between these bounds (subdirectories come on top).
inline constexpr uint32_t kMinFanout = 10;
inline constexpr uint32_t kMaxFanout = 1000;

struct DirSpec {
  std::string path;  // relative to the tree's root; "" for the root itself
  int64_t mtime = 0;
};

struct FileSpec {
  uint32_t dir = 0;  // index into TreePlan::dirs
  uint64_t size = 0;
  int64_t mtime = 0;
};

// dirs[0] is the root; a directory's parent always comes before it, so creating them in order
// works. File i is named by FileName(i).
struct TreePlan {
  std::vector<DirSpec> dirs;
  std::vector<FileSpec> files;
  uint64_t bytes = 0;  // sum of the file sizes
};

// scale multiplies the number of files (a, c's small files, million) and the size of the large
// files (b, c); a tree keeps at least one file.
TreePlan PlanTree(Shape shape, uint64_t seed, double scale);

// "src/net_3/core_17.c": the path of file i of plan, relative to the root.
std::string FilePath(const TreePlan& plan, size_t i);

// SplitMix64 (Steele, Lea, Flood): small, fast, and the same sequence everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  double Uniform();            // [0, 1)
  uint64_t Below(uint64_t n);  // [0, n); n > 0
  double Normal();             // standard normal, by Box-Muller

 private:
  uint64_t state_;
};

}  // namespace tree
