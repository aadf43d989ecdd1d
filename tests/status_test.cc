#include "base/status.h"

#include <cerrno>
#include <string>

#include "test_util.h"

namespace pcopy {
namespace {

TEST(StatusTest, DefaultIsOk) {
  const Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.err(), 0);
  EXPECT_EQ(s.op(), "");
  EXPECT_FALSE(s.offset().has_value());
}

TEST(StatusTest, FromErrnoWithOffset) {
  const Status s = Status::FromErrno("write", "dst.img", ENOSPC, 4194304);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.err(), ENOSPC);
  EXPECT_EQ(s.op(), "write");
  EXPECT_EQ(s.offset(), std::optional<uint64_t>(4194304));
  EXPECT_EQ(s.ToString(), "write 'dst.img' at offset 4194304: No space left on device");
}

TEST(StatusTest, FromErrnoWithoutOffset) {
  const Status s = Status::FromErrno("open", "src.img", ENOENT);
  EXPECT_FALSE(s.offset().has_value());
  EXPECT_EQ(s.ToString(), "open 'src.img': No such file or directory");
}

TEST(StatusTest, OffsetZeroIsShown) {
  EXPECT_EQ(Status::FromErrno("read", "a", EIO, 0).ToString(),
            "read 'a' at offset 0: Input/output error");
}

TEST(StatusTest, LargestOffset) {
  EXPECT_EQ(Status::FromErrno("read", "a", EIO, UINT64_MAX).ToString(),
            "read 'a' at offset 18446744073709551615: Input/output error");
}

TEST(StatusTest, SecondPath) {
  Status s = Status::FromErrno("rename", ".pcopy-1-x.tmp", EXDEV);
  s.WithSecondPath("dst.img");
  EXPECT_EQ(s.ToString(), "rename '.pcopy-1-x.tmp' to 'dst.img': Invalid cross-device link");
}

TEST(StatusTest, SecondPathAndOffset) {
  const Status s =
      Status::FromErrno("copy_file_range", "src.img", EXDEV, 8192).WithSecondPath("dst.img");
  EXPECT_EQ(s.ToString(),
            "copy_file_range 'src.img' to 'dst.img' at offset 8192: Invalid cross-device link");
  EXPECT_EQ(s.err(), EXDEV);
}

TEST(StatusTest, FailureWithReason) {
  const Status s = Status::Failure("read", "src.img", "unexpected end of file", 12);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.err(), 0);
  EXPECT_EQ(s.op(), "read");
  EXPECT_EQ(s.ToString(), "read 'src.img' at offset 12: unexpected end of file");
}

TEST(StatusTest, FailureWithoutOffset) {
  EXPECT_EQ(Status::Failure("cannot overwrite directory", "d", "DEST must be a file").ToString(),
            "cannot overwrite directory 'd': DEST must be a file");
}

TEST(StatusTest, MessageIsTheWholeText) {
  const Status s = Status::Message("missing file operand");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.err(), 0);
  EXPECT_EQ(s.ToString(), "missing file operand");
}

TEST(StatusTest, CopiesKeepEveryField) {
  const Status a = Status::FromErrno("write", "x", ENOSPC, 7).WithSecondPath("y");
  const Status b = a;  // NOLINT: the copy is the point
  EXPECT_EQ(b.ToString(), a.ToString());
  EXPECT_EQ(b.err(), ENOSPC);
  EXPECT_EQ(b.offset(), std::optional<uint64_t>(7));
}

TEST(StatusTest, HostilePathStaysOnOneLine) {
  const Status s = Status::FromErrno("open", "evil\nname\r", ENOENT);
  const std::string text = s.ToString();
  EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos) << text;
  EXPECT_EQ(text, "open 'evil\\nname\\r': No such file or directory");
}

TEST(QuoteTest, PlainName) {
  EXPECT_EQ(Quote("dst.img"), "'dst.img'");
  EXPECT_EQ(Quote(""), "''");
  EXPECT_EQ(Quote("dir/with space/f"), "'dir/with space/f'");
}

TEST(QuoteTest, Newline) { EXPECT_EQ(Quote("a\nb"), "'a\\nb'"); }

TEST(QuoteTest, Tab) { EXPECT_EQ(Quote("a\tb"), "'a\\tb'"); }

TEST(QuoteTest, SingleQuote) { EXPECT_EQ(Quote("it's"), "'it\\'s'"); }

TEST(QuoteTest, Backslash) { EXPECT_EQ(Quote("a\\b"), "'a\\\\b'"); }

TEST(QuoteTest, ControlBytesAsOctal) {
  EXPECT_EQ(Quote(std::string("a\x01z", 3)), "'a\\001z'");
  EXPECT_EQ(Quote(std::string("\x1b[31m", 5)), "'\\033[31m'");
  EXPECT_EQ(Quote(std::string("\x7f", 1)), "'\\177'");
  EXPECT_EQ(Quote(std::string("a\0b", 3)), "'a\\000b'");
}

TEST(QuoteTest, CarriageReturnIsEscaped) {
  const std::string q = Quote("a\rb");
  EXPECT_EQ(q.find('\r'), std::string::npos) << q;
  EXPECT_EQ(q.substr(0, 3), "'a\\");
}

TEST(QuoteTest, NoControlByteSurvives) {
  for (int c = 0; c < 0x20; ++c) {
    const std::string q = Quote(std::string(1, static_cast<char>(c)));
    for (char out : q) {
      EXPECT_GE(static_cast<unsigned char>(out), 0x20) << "byte " << c << " gave " << q;
    }
  }
}

TEST(QuoteTest, NonUtf8AndUtf8BytesPassThrough) {
  EXPECT_EQ(Quote("\xff\xfe\x80"), "'\xff\xfe\x80'");
  EXPECT_EQ(Quote("caf\xc3\xa9"), "'caf\xc3\xa9'");
}

}  // namespace
}  // namespace pcopy
