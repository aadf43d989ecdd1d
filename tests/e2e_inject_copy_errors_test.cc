// e2e_inject_copy_errors_test.cc: I/O errors injected into the workers' copy syscalls (EIO from
// pread64 and copy_file_range, ENOSPC and EDQUOT from pwrite64, a refused or full
// copy_file_range, and the writeback that --fsync starts as it goes): pcopy fails with one line
// naming the operation, the path, the offset and the cause, and leaves DEST as it was. Needs
// strace; see e2e_inject_util.h.
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "e2e_inject_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

class E2eInjectCopyErrors : public InjectTest {};

TEST_F(E2eInjectCopyErrors, PreadEio) {
  // Each worker's third read of SOURCE fails: 256 KiB into the 1 MiB chunk it holds.
  const auto offsets = ExpectCleanFailure(
      "pread64", OnSource({"-e", "inject=pread64:error=EIO:when=3"}),
      {"-j", "2", "--method", "pread"}, {Cat({"read ", Quoted(src_)}), true, "Input/output error"});
  for (uint64_t offset : offsets) EXPECT_EQ(offset % kMiB, 2 * kBufferSize);
}

TEST_F(E2eInjectCopyErrors, CopyFileRangeEio) {
  // One copy_file_range call per 1 MiB chunk: each worker's third starts a chunk.
  const auto offsets = ExpectCleanFailure(
      "copy_file_range", {"-e", "inject=copy_file_range:error=EIO:when=3"},
      {"-j", "2", "--method", "copy_file_range"},
      {Cat({"copy_file_range ", Quoted(src_), " to ", Quoted(dst_)}), true, "Input/output error"});
  for (uint64_t offset : offsets) EXPECT_EQ(offset % kMiB, 0u);
}

TEST_F(E2eInjectCopyErrors, CopyFileRangeRefusalIsAnErrorWhenAskedFor) {
  // --method copy_file_range does not fall back: EXDEV is reported, at the first call.
  const auto offsets = ExpectCleanFailure(
      "copy_file_range", {"-e", "inject=copy_file_range:error=EXDEV:when=1"},
      {"-j", "2", "--method", "copy_file_range"},
      {Cat({"copy_file_range ", Quoted(src_), " to ", Quoted(dst_)}), true, strerror(EXDEV)});
  for (uint64_t offset : offsets) EXPECT_EQ(offset % kMiB, 0u);
}

TEST_F(E2eInjectCopyErrors, PwriteNoSpaceAndQuota) {
  for (const int err : {ENOSPC, EDQUOT}) {
    SCOPED_TRACE(strerrorname_np(err));
    const auto offsets = ExpectCleanFailure(
        "pwrite64", {"-e", Cat({"inject=pwrite64:error=", strerrorname_np(err), ":when=3"})},
        {"-j", "2", "--method", "pread"}, {Cat({"write ", Quoted(dst_)}), true, strerror(err)});
    for (uint64_t offset : offsets) EXPECT_EQ(offset % kMiB, 2 * kBufferSize);
  }
}

TEST_F(E2eInjectCopyErrors, WritebackEioWithFsync) {
  // --fsync: each worker hands what it wrote to the disk as it goes (copy/writeback.h); the
  // first such call of each worker fails, at the start of a 1 MiB chunk, before the parent's.
  const auto offsets = ExpectCleanFailure(
      "sync_file_range", {"-e", "inject=sync_file_range:error=EIO:when=1"}, {"-j", "2", "--fsync"},
      {Cat({"fdatasync ", Quoted(dst_)}), true, "Input/output error"});
  for (uint64_t offset : offsets) EXPECT_EQ(offset % kMiB, 0u);
}

TEST_F(E2eInjectCopyErrors, TreeChunkWritebackEioWithFsync) {
  // A tree's large file (17 MiB, in 1 MiB chunks): with --fsync each chunk's writeback starts in
  // the worker that copied it; the first such call of each worker fails. The error names the
  // file and the chunk's offset; as for any entry that cannot be copied, the rest of the tree
  // (here an empty directory) is published without it, and nothing hidden is left.
  const std::string tree = dir_ / "tree", out = dir_ / "out";
  ASSERT_EQ(0, mkdir(tree.c_str(), 0755));
  MakeRandomFile(tree + "/big", 17 * kMiB + 5, 77);
  src_ = tree;
  dst_ = out;
  const InjectedRun run = Run("sync_file_range", {"-e", "inject=sync_file_range:error=EIO:when=1"},
                              {"-r", "-j", "2", "--chunk-size", "1M", "--fsync"});
  EXPECT_GE(run.injected, 1u);
  EXPECT_EQ(run.result.exit_code, 1) << run.result.err;
  const std::string head = Cat({"pcopy: fdatasync ", Quoted(out + "/big"), " at offset "});
  ASSERT_EQ(run.result.err.rfind(head, 0), 0u) << run.result.err;
  EXPECT_NE(run.result.err.find(": Input/output error\n"), std::string::npos) << run.result.err;
  EXPECT_EQ(ListDir(dir_.path()), (std::vector<std::string>{"out", "src", "tree"}));
  EXPECT_EQ(ListDir(out), std::vector<std::string>{});
}

TEST_F(E2eInjectCopyErrors, CopyFileRangeNoSpaceIsAWriteErrorNotAFallback) {
  // ENOSPC is not one of the refusals copy_file_range+pread falls back on, and it reads as the
  // write it is.
  ExpectCleanFailure("copy_file_range", {"-e", "inject=copy_file_range:error=ENOSPC:when=2"},
                     {"-j", "2", "--method", "copy_file_range+pread"},
                     {Cat({"write ", Quoted(dst_)}), true, strerror(ENOSPC)});
}

}  // namespace
}  // namespace pcopy::test
