// clone_fs_test_util.h: the file systems that can clone (xfs with reflink=1, btrfs), each
// loop-mounted for a test, as a GoogleTest parameter. Shared by the --reflink tests of single
// files and of trees. Mounting needs root: elsewhere SetUp skips with the reason.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy::test {

struct CloneFs {
  const char* type;
  std::vector<std::string> mkfs_options;
  uint64_t image_size;
};

inline void PrintTo(const CloneFs& c, std::ostream* os) { *os << c.type; }
inline std::string CloneFsName(const testing::TestParamInfo<CloneFs>& info) {
  return info.param.type;
}

// The cases to instantiate with: INSTANTIATE_TEST_SUITE_P(FileSystems, Suite, CloneFileSystems(),
// CloneFsName).
inline auto CloneFileSystems() {
  return testing::Values(CloneFs{"xfs", {"-m", "reflink=1"}, uint64_t{512} << 20},
                         CloneFs{"btrfs", {}, uint64_t{256} << 20});
}

// mnt_ holds the parameter's file system, mounted for the test and unmounted after it.
class CloneFsTest : public testing::TestWithParam<CloneFs> {
 protected:
  void SetUp() override {
    if (!IsRoot()) GTEST_SKIP() << "needs root to loop-mount " << GetParam().type;
    ASSERT_EQ(mkdir(mnt_.c_str(), 0755), 0);
    mount_ = std::make_unique<LoopMount>(mnt_, GetParam().type, t_ / "image", GetParam().image_size,
                                         GetParam().mkfs_options);
    if (!mount_->mounted()) GTEST_SKIP() << mount_->error();
  }
  void TearDown() override { mount_.reset(); }

  TempDir t_;
  const std::string mnt_ = t_ / "mnt";
  std::unique_ptr<LoopMount> mount_;
};

}  // namespace pcopy::test
