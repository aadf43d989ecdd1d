// Unit tests of the tree copy's plumbing: the task and result encoding, the channel that carries
// them with descriptors, a new file's publication, and the removal of a tree.
#include "exec/tree_task.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/task_channel.h"
#include "os/new_file.h"
#include "os/remove_tree.h"
#include "test_util.h"
#include "tree_test_util.h"

namespace pcopy::test {
namespace {

Task SampleTask() {
  Task t;
  t.id = 42;
  t.kind = TaskKind::kBatch;
  t.publish = Publish::kViaTemporary;
  t.src_display = "src/a";
  t.dst_display = "dst/a";
  t.items.push_back(TaskItem{"x", "", EntryType::kRegular, false, 1, 2, 3});
  t.items.push_back(
      TaskItem{std::string("new\nline\xff", 9), "renamed", EntryType::kSymlink, true, 4, 5, 0});
  return t;
}

TEST(TreeTask, ATaskSurvivesItsEncoding) {
  const Task t = SampleTask();
  Task back;
  ASSERT_TRUE(DecodeTask(EncodeTask(t), &back));
  EXPECT_EQ(t.id, back.id);
  EXPECT_EQ(t.publish, back.publish);
  EXPECT_EQ(t.dst_display, back.dst_display);
  ASSERT_EQ(2u, back.items.size());
  EXPECT_EQ(t.items[1].name, back.items[1].name);
  EXPECT_EQ("renamed", back.items[1].target_name());
  EXPECT_EQ("x", back.items[0].target_name());
  EXPECT_EQ(3u, back.items[0].size);
  EXPECT_EQ(EntryType::kSymlink, back.items[1].type);
  EXPECT_TRUE(back.items[1].follow);
  EXPECT_FALSE(back.items[0].follow);
}

TEST(TreeTask, ATruncatedOrPaddedMessageIsRefused) {
  std::vector<char> bytes = EncodeTask(SampleTask());
  Task back;
  std::vector<char> cut(bytes.begin(), bytes.end() - 1);
  EXPECT_FALSE(DecodeTask(cut, &back));
  bytes.push_back(0);
  EXPECT_FALSE(DecodeTask(bytes, &back));
}

TEST(TreeTask, AResultSurvivesItsEncodingAndLongMessagesAreCut) {
  TaskResult r;
  r.id = 7;
  r.bytes = 1234;
  r.states = {ItemState::kCopied, ItemState::kFailed, ItemState::kSkipped};
  r.errors.push_back(ItemError{1, 28, std::string(5000, 'e')});
  TaskResult back;
  ASSERT_TRUE(DecodeResult(EncodeResult(r), &back));
  EXPECT_EQ(r.states, back.states);
  ASSERT_EQ(1u, back.errors.size());
  EXPECT_EQ(28, back.errors[0].err);
  EXPECT_EQ(kMaxErrorBytes + 3, back.errors[0].message.size());
}

TEST(TaskChannel, AMessageArrivesWholeWithItsDescriptors) {
  TempDir t;
  WriteFile(t / "f", "hello");
  UniqueFd a, b;
  ASSERT_OK(MakeChannel(&a, &b));
  UniqueFd f(open((t / "f").c_str(), O_RDONLY | O_CLOEXEC));
  const int fds[] = {f.get()};
  const std::string text = "one message";
  ASSERT_EQ(0, SendMessage(a.get(), std::span(text.data(), text.size()), fds, false));
  std::vector<char> bytes;
  std::vector<UniqueFd> got;
  ASSERT_EQ(static_cast<ssize_t>(text.size()), ReceiveMessage(b.get(), &bytes, &got, true));
  EXPECT_EQ(text, std::string(bytes.begin(), bytes.end()));
  ASSERT_EQ(1u, got.size());
  char buf[8] = {};
  EXPECT_EQ(5, pread(got[0].get(), buf, sizeof buf, 0));
  EXPECT_EQ("hello", std::string(buf));
  EXPECT_EQ(FD_CLOEXEC, fcntl(got[0].get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_EQ(-1, ReceiveMessage(b.get(), &bytes, &got, true));
  EXPECT_EQ(EAGAIN, errno);
  a = UniqueFd();
  EXPECT_EQ(0, ReceiveMessage(b.get(), &bytes, &got, true));  // the other end closed
}

TEST(TaskChannel, AMessageTooLargeIsRefused) {
  UniqueFd a, b;
  ASSERT_OK(MakeChannel(&a, &b));
  const std::vector<char> big(kMaxMessage + 1, 'x');
  EXPECT_EQ(EMSGSIZE, SendMessage(a.get(), big, {}, false));
}

class NewFileTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_fd_ = UniqueFd(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY)); }
  Published Write(Placement placement, bool no_clobber, const std::string& bytes) {
    NewFile f;
    EXPECT_OK(f.Create(RealSysCalls(), dir_fd_.get(), "name", placement, 0600, dir_ / "name"));
    EXPECT_EQ(static_cast<ssize_t>(bytes.size()), write(f.fd(), bytes.data(), bytes.size()));
    Status s;
    const Published p = f.Publish(no_clobber, &s);
    if (p != Published::kYes) f.Discard();
    return p;
  }
  TempDir dir_;
  UniqueFd dir_fd_;
};

TEST_F(NewFileTest, ViaATemporaryNothingIsVisibleUntilPublished) {
  NewFile f;
  ASSERT_OK(
      f.Create(RealSysCalls(), dir_fd_.get(), "name", Placement::kViaTemporary, 0600, "name"));
  EXPECT_EQ(std::vector<std::string>{}, dir_.List());
  Status s;
  EXPECT_EQ(Published::kYes, f.Publish(false, &s));
  EXPECT_OK(s);
  EXPECT_EQ(std::vector<std::string>{"name"}, dir_.List());
}

TEST_F(NewFileTest, AnExistingNameIsReplacedOrKept) {
  WriteFile(dir_ / "name", "old");
  EXPECT_EQ(Published::kKeptExisting, Write(Placement::kViaTemporary, true, "new"));
  EXPECT_EQ("old", ReadFile(dir_ / "name"));
  EXPECT_EQ(Published::kYes, Write(Placement::kViaTemporary, false, "new"));
  EXPECT_EQ("new", ReadFile(dir_ / "name"));
  EXPECT_EQ(std::vector<std::string>{"name"}, dir_.List());
}

TEST_F(NewFileTest, DiscardRemovesAFileCreatedInPlace) {
  NewFile f;
  ASSERT_OK(f.Create(RealSysCalls(), dir_fd_.get(), "name", Placement::kInPlace, 0600, "name"));
  EXPECT_EQ(std::vector<std::string>{"name"}, dir_.List());
  f.Discard();
  EXPECT_EQ(std::vector<std::string>{}, dir_.List());
}

TEST(RemoveTree, ADeepTreeGoesWhole) {
  TempDir t;
  // 300 levels of 20-byte names: deeper than PATH_MAX, so built relative to descriptors.
  UniqueFd dir(open(t.path().c_str(), O_RDONLY | O_DIRECTORY));
  const UniqueFd top(open(t.path().c_str(), O_RDONLY | O_DIRECTORY));
  std::string name = "top";
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(0, mkdirat(dir.get(), name.c_str(), 0755)) << i;
    dir = UniqueFd(openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY));
    ASSERT_TRUE(dir.valid());
    UniqueFd f(openat(dir.get(), "f", O_WRONLY | O_CREAT, 0644));
    ASSERT_EQ(0, symlinkat("/", dir.get(), "link"));
    name = "ddddddddddddddddddd";
  }
  EXPECT_OK(RemoveTree(RealSysCalls(), top.get(), "top", "top"));
  EXPECT_EQ(std::vector<std::string>{}, t.List());
}

}  // namespace
}  // namespace pcopy::test
