// e2e_inject_commit_errors_test.cc: errors injected into the parent's commit of the temporary
// (ftruncate, fsync, fchmod, close, rename, and the fsync of the directory after the rename):
// one line naming the step and DEST, and DEST as it was (or, after the rename, the complete
// copy). Needs strace; see e2e_inject_util.h.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "e2e_inject_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

class E2eInjectCommitErrors : public InjectTest {};

TEST_F(E2eInjectCommitErrors, FsyncEio) {
  // --fsync: the parent fsyncs the temporary before it renames it; no worker calls fsync.
  ExpectCleanFailure("fsync", {"-e", "inject=fsync:error=EIO"}, {"-j", "2", "--fsync"},
                     {Cat({"fsync ", Quoted(dst_)}), false, "Input/output error"});
}

TEST_F(E2eInjectCommitErrors, FtruncateFchmodRename) {
  ExpectCleanFailure("ftruncate", {"-e", "inject=ftruncate:error=EFBIG"}, {"-j", "2"},
                     {Cat({"cannot set the size of ", Quoted(dst_)}), false, strerror(EFBIG)});
  ExpectCleanFailure("fchmod", {"-e", "inject=fchmod:error=EPERM"}, {"-j", "2"},
                     {Cat({"set permissions of ", Quoted(dst_)}), false, strerror(EPERM)});
  // glibc's renameat2(flags 0) is the renameat syscall on x86_64; "?" skips names an
  // architecture lacks.
  ExpectCleanFailure(
      "?rename,renameat,renameat2", {"-e", "inject=?rename,renameat,renameat2:error=EIO"},
      {"-j", "2"},
      {Cat({"cannot rename temporary file to ", Quoted(dst_)}), false, "Input/output error"});
}

// The 1-based index, among the close calls of pcopy's parent (the first process in the trace),
// of the close of its temporary, from an `strace -f -e trace=openat,close` trace; 0 if absent.
int TemporaryCloseIndex(const std::string& trace) {
  std::string parent;
  std::string temp_fd;
  int closes = 0;
  size_t start = 0;
  while (start < trace.size()) {
    size_t end = trace.find('\n', start);
    if (end == std::string::npos) end = trace.size();
    const std::string line = trace.substr(start, end - start);
    start = end + 1;
    const size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    const std::string pid = line.substr(0, space);
    if (parent.empty()) parent = pid;
    if (pid != parent) continue;
    const std::string call = line.substr(line.find_first_not_of(' ', space));
    // The first open of the temporary creates it; the executor opens it again for its workers
    // and closes that descriptor after the run, so only the creating descriptor is followed.
    if (call.rfind("openat(", 0) == 0 && call.find("/.pcopy-") != std::string::npos &&
        call.find(".tmp\"") != std::string::npos) {
      const size_t eq = call.rfind(") = ");
      if (eq != std::string::npos && temp_fd.empty()) temp_fd = call.substr(eq + 4);
      continue;
    }
    if (call.rfind("close(", 0) != 0) continue;
    ++closes;
    const std::string fd_part = call.substr(6);
    if (!temp_fd.empty() && fd_part.rfind(temp_fd, 0) == 0 && fd_part.size() > temp_fd.size() &&
        (fd_part[temp_fd.size()] == ')' || fd_part[temp_fd.size()] == ' ')) {
      return closes;
    }
  }
  return 0;
}

TEST_F(E2eInjectCommitErrors, CloseOfTheTemporaryEio) {
  // close is called for many descriptors (the dynamic loader's, a directory's), so the close of
  // the temporary is found first: a clean run under the same conditions is traced, and the
  // position of the temporary's close among the parent's closes becomes `when`. The count is per
  // process; workers using pread/pwrite close nothing, so only the parent's close is hit.
  for (const bool had_dest : {false, true}) {
    SCOPED_TRACE(had_dest ? "DEST existed" : "no DEST");
    const std::vector<std::string> options = {"-j", "2", "--method", "pread"};
    unlink(dst_.c_str());
    if (had_dest) WriteFile(dst_, kOldContent);
    const InjectedRun probe = Run("openat,close", {}, options);
    ASSERT_EQ(probe.result.exit_code, 0) << probe.result.err;
    const int when = TemporaryCloseIndex(probe.trace);
    ASSERT_GT(when, 0) << "no close of the temporary in the trace:\n" << probe.trace;

    unlink(dst_.c_str());
    if (had_dest) WriteFile(dst_, kOldContent);
    const InjectedRun run =
        Run("close", {"-e", Cat({"inject=close:error=EIO:when=", std::to_string(when)})}, options);
    EXPECT_EQ(run.injected, 1u) << run.trace;
    ExpectError(run, {Cat({"close ", Quoted(dst_)}), false, "Input/output error"});
    ExpectUntouched(had_dest);
  }
}

TEST_F(E2eInjectCommitErrors, FsyncOfTheDirectoryAfterTheRename) {
  // --fsync: fsync #1 is the temporary's, fsync #2 the directory's, after the rename. The rename
  // has happened, so DEST is the complete new copy, but pcopy exits 1 because the rename may not
  // be durable. (README's exit-status table says exit 1 leaves DEST "as it was before"; this is
  // the one failure after which it is not.)
  for (const bool had_dest : {false, true}) {
    SCOPED_TRACE(had_dest ? "DEST existed" : "no DEST");
    unlink(dst_.c_str());
    if (had_dest) WriteFile(dst_, kOldContent);
    const InjectedRun run =
        Run("fsync", {"-e", "inject=fsync:error=EIO:when=2"}, {"-j", "2", "--fsync"});
    ExpectError(run, {Cat({"fsync directory ", Quoted(dir_.path())}), false, "Input/output error"});
    EXPECT_TRUE(SameBytes(src_, dst_)) << "DEST is neither the old file nor the complete copy";
    EXPECT_TRUE(Temporaries(dir_.path()).empty());
    EXPECT_TRUE(ReadFile(src_) == original_) << "the source changed";
  }
}

}  // namespace
}  // namespace pcopy::test
