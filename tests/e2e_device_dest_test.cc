// e2e_device_dest_test.cc: a block device as DEST (an image written to a disk, dd's main job), on a
// loop device over an image file, as root: written in place by the workers, holes written as
// zeros over what the device held, the rest of the device untouched, read back with --verify;
// refused when mounted or too small, or with the options that need a file pcopy creates; and a
// failure or a signal saying the device is partly written. Skipped unless root.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "e2e_copy_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr uint64_t kDeviceSize = 16 * kMiB;

class E2eDeviceDest : public testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) GTEST_SKIP() << "needs root to attach a loop device";
    image_ = t_ / "image";
    MakeRandomFile(image_, kDeviceSize, 99);  // what the device held before: never zeros
    old_ = ReadFile(image_);
    loop_ = std::make_unique<LoopDevice>(image_);
    if (loop_->device().empty()) GTEST_SKIP() << loop_->error();
    dev_ = loop_->device();
    // 3 MiB of data, a 2 MiB hole, then 5 bytes: the hole must reach the device as zeros.
    src_ = t_ / "src";
    MakeRandomFile(src_, 3 * kMiB, 7);
    const int fd = open(src_.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, 5 * kMiB), 0);
    ASSERT_EQ(write(fd, "tail!", 5), 5);
    close(fd);
  }

  // The device's bytes, read through the device itself.
  std::string Device() const {
    std::string bytes = ReadFile(dev_);
    EXPECT_EQ(bytes.size(), kDeviceSize);
    return bytes;
  }

  // SOURCE's bytes on the device, and what it held before after them.
  void ExpectWritten(const std::string& source) const {
    const std::string want = ReadFile(source);
    const std::string now = Device();
    EXPECT_TRUE(now.compare(0, want.size(), want) == 0) << "the device does not start with SOURCE";
    EXPECT_TRUE(now.compare(want.size(), std::string::npos, old_, want.size()) == 0)
        << "the device past SOURCE's end changed";
  }

  TempDir t_;
  std::string image_, old_, dev_, src_;
  std::unique_ptr<LoopDevice> loop_;
};

TEST_F(E2eDeviceDest, AnImageIsWrittenInPlaceAndReadBack) {
  for (const std::vector<std::string>& options :
       std::vector<std::vector<std::string>>{{"-j", "3", "--verify", "--fsync", "-v"},
                                             {"-j", "2", "--sparse=always"},
                                             {"--method", "copy_file_range+pread"}}) {
    ASSERT_EQ(RunCommand({"dd", "if=" + image_, "of=" + dev_, "bs=1M", "status=none"}).exit_code,
              0);
    std::vector<std::string> args = options;
    args.insert(args.end(), {src_, dev_});
    const RunResult r = RunPcopy(args);
    EXPECT_EQ(r.exit_code, 0) << options[0] << ": " << r.err;
    ExpectWritten(src_);
    if (options.back() == "-v") {
      EXPECT_EQ(r.out, Quoted(src_) + " -> " + Quoted(dev_) + "\n");
      EXPECT_NE(r.err.find("method auto: DEST is a block device"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find(", fsync, verified, in place on a block device\n"), std::string::npos)
          << r.err;
      EXPECT_NE(r.err.find("verified against"), std::string::npos) << r.err;
    }
  }
  struct stat st {};
  ASSERT_EQ(stat(dev_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISBLK(st.st_mode)) << "the device node was replaced";
  EXPECT_EQ(Temporaries(t_.path()), std::vector<std::string>{});
}

// Standard input to a device (dd's `dd of=/dev/sdb < image`), and one that does not fit: ENOSPC
// at the device's end, said with the note that it is partly written.
TEST_F(E2eDeviceDest, StandardInputIsWrittenToADevice) {
  RunResult r =
      RunCommand({"sh", "-c", "cat \"$1\" | exec \"$0\" - \"$2\"", PCOPY_BINARY, src_, dev_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ExpectWritten(src_);
  r = RunCommand({"sh", "-c", "head -c 20M /dev/zero | exec \"$0\" - \"$1\"", PCOPY_BINARY, dev_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: write " + Quoted(dev_) + " at offset " + std::to_string(kDeviceSize) +
                       ": No space left on device\npcopy: DEST " + Quoted(dev_) +
                       " is partly written (a device is written in place)\n");
}

// Refused before a byte is written: too small, mounted, the device itself as SOURCE, and the
// options that need a file pcopy creates. -n keeps the device, as it keeps an existing file.
TEST_F(E2eDeviceDest, RefusalsLeaveTheDeviceAsItWas) {
  const std::string big = t_ / "big";
  MakeRandomFile(big, kDeviceSize + 1, 3);
  const std::string in_place = ": a block device is written in place, not created\n";
  const struct {
    std::vector<std::string> args;
    std::string err;
  } cases[] = {
      {{big, dev_},
       "pcopy: not writing to " + Quoted(dev_) + ": " + Quoted(big) +
           " holds 16.0 MiB, more than the device's 16.0 MiB\n"},
      {{dev_, dev_}, "pcopy: " + Quoted(dev_) + " and " + Quoted(dev_) + " are the same file\n"},
      {{"-p", src_, dev_},
       "pcopy: -p, -a and --preserve cannot be used with " + Quoted(dev_) + in_place},
      {{"--resume", src_, dev_}, "pcopy: --resume cannot be used with " + Quoted(dev_) + in_place},
      {{"--reflink=always", src_, dev_},
       "pcopy: --reflink=always cannot be used with " + Quoted(dev_) + in_place},
      {{"--method", "copy_file_range", src_, dev_},
       "pcopy: --method copy_file_range cannot write to " + Quoted(dev_) +
           ": a block device (copy_file_range+pread falls back to pread/pwrite)\n"},
  };
  for (const auto& c : cases) {
    const RunResult r = RunPcopy(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.err;
    EXPECT_EQ(r.err, c.err);
  }
  const RunResult kept = RunPcopy({"-n", "-p", src_, dev_});  // -n keeps it before -p is refused
  EXPECT_EQ(kept.exit_code, 0) << kept.err;
  // Held exclusively by another program (here, the test), as a RAID or LVM member would be.
  const int held = open(dev_.c_str(), O_RDONLY | O_EXCL | O_CLOEXEC);
  ASSERT_GE(held, 0) << strerror(errno);
  const RunResult busy = RunPcopy({src_, dev_});
  close(held);
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_EQ(busy.err, "pcopy: not writing to " + Quoted(dev_) +
                          ": it is in use (a partition of it mounted, or held by another "
                          "program)\n");
  EXPECT_TRUE(Device() == old_) << "the device changed";

  if (RunCommand({"sh", "-c", "command -v mkfs.ext4"}).exit_code != 0) {
    GTEST_SKIP() << "no mkfs.ext4 to make a file system to mount";
  }
  ASSERT_EQ(RunCommand({"mkfs.ext4", "-q", "-F", dev_}).exit_code, 0);
  const std::string mnt = t_ / "mnt";
  ASSERT_EQ(mkdir(mnt.c_str(), 0700), 0);
  ASSERT_EQ(mount(dev_.c_str(), mnt.c_str(), "ext4", 0, nullptr), 0) << strerror(errno);
  const RunResult r = RunPcopy({src_, dev_});
  EXPECT_EQ(umount(mnt.c_str()), 0);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: not writing to " + Quoted(dev_) + ": it is mounted on " + Quoted(mnt) +
                       " (unmount it first)\n");
  // The mount itself writes to the device; SOURCE's bytes must not be there.
  const std::string source = ReadFile(src_);
  EXPECT_FALSE(Device().compare(0, source.size(), source) == 0) << "a mounted device was written";
}

// A SIGINT mid-copy: exit 130, one line saying the device is partly written, no worker left.
TEST_F(E2eDeviceDest, ASignalSaysTheDeviceIsPartlyWritten) {
  PcopyProcess p({"--bwlimit", "2M", "-j", "2", src_, dev_});
  ASSERT_TRUE(p.WaitForWorkers());
  usleep(300 * 1000);
  ASSERT_TRUE(p.Running()) << "the copy ended before the signal";
  ASSERT_EQ(kill(p.pid(), SIGINT), 0);
  const RunResult r = FinishWithin(p);
  EXPECT_EQ(r.exit_code, 130);
  EXPECT_EQ(r.err, "pcopy: interrupted by SIGINT; DEST " + Quoted(dev_) +
                       " is partly written (a device is written in place)\n");
}

}  // namespace
}  // namespace pcopy::test
