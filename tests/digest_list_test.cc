// digest_list_test.cc: the "DIGEST  NAME" lines of --checksum and --check, escaped and read back
// as GNU sha256sum writes and reads them.
#include "app/digest_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pcopy {
namespace {

const std::string kDigest = "0123456789abcdef0123456789abcdef";
const std::string kBackslash = "\\";

TEST(DigestListTest, PlainNameIsWrittenAsIs) {
  EXPECT_EQ(DigestLine(kDigest, "photo.raw"), kDigest + "  photo.raw");
  EXPECT_EQ(DigestLine(kDigest, "with space/and 'quote'"), kDigest + "  with space/and 'quote'");
  EXPECT_EQ(EscapedName("photo.raw"), "photo.raw");
}

TEST(DigestListTest, BackslashNewlineAndReturnAreEscapedAfterALeadingBackslash) {
  EXPECT_EQ(DigestLine(kDigest, "a\nb"), kBackslash + kDigest + "  a\\nb");
  EXPECT_EQ(DigestLine(kDigest, "c\\d"), kBackslash + kDigest + "  c\\\\d");
  EXPECT_EQ(DigestLine(kDigest, "e\rf"), kBackslash + kDigest + "  e\\rf");
  EXPECT_EQ(DigestLine(kDigest, "\n\\\r\t"), kBackslash + kDigest + "  \\n\\\\\\r\t");
  EXPECT_EQ(EscapedName("a\nb"), "\\a\\nb");
  EXPECT_EQ(EscapedName("c\\d"), "\\c\\\\d");
}

TEST(DigestListTest, EveryNameReadsBack) {
  for (const std::string& name :
       std::vector<std::string>{"plain", "a\nb", "c\\d", "e\rf", "\\", "\\n", "two  spaces",
                                " lead", "tail ", "*star", "#hash", "\n", "x\\\\y\n\n"}) {
    SCOPED_TRACE(testing::PrintToString(name));
    std::string digest, read;
    ASSERT_TRUE(ParseDigestLine(DigestLine(kDigest, name), &digest, &read));
    EXPECT_EQ(read, name);
    EXPECT_EQ(digest, kDigest);
  }
}

TEST(DigestListTest, ReadsTheFormsSha256sumAccepts) {
  std::string digest, name;
  const std::string upper = "0123456789ABCDEF0123456789ABCDEF";
  ASSERT_TRUE(ParseDigestLine(upper + " *bin", &digest, &name));
  EXPECT_EQ(digest, kDigest) << "the digest is compared in lowercase";
  EXPECT_EQ(name, "bin");
  ASSERT_TRUE(ParseDigestLine(std::string("  \t") + kDigest + "  lead", &digest, &name));
  EXPECT_EQ(name, "lead");
  ASSERT_TRUE(ParseDigestLine(kDigest + "\t tab", &digest, &name));
  EXPECT_EQ(name, "tab");
  ASSERT_TRUE(ParseDigestLine(kDigest + "  dos\r", &digest, &name));
  EXPECT_EQ(name, "dos") << "a CRLF line's carriage return is not part of the name";
}

TEST(DigestListTest, RefusesWhatIsNotADigestLine) {
  std::string digest, name;
  for (const std::string& line :
       {std::string("junk"), std::string(""), kDigest, kDigest + " ", kDigest + "  ",
        kDigest + " x", kDigest.substr(1) + "  x", kDigest + "0  x", kDigest + kDigest + "  x",
        std::string("g").append(kDigest, 1) + "  x", kBackslash + kDigest + "  bad\\x",
        kBackslash + kDigest + "  end\\", kDigest + "  nul" + std::string(1, '\0')}) {
    EXPECT_FALSE(ParseDigestLine(line, &digest, &name)) << testing::PrintToString(line);
  }
}

TEST(DigestListTest, EmptyLinesAndCommentsAreSkipped) {
  EXPECT_TRUE(IsIgnoredLine(""));
  EXPECT_TRUE(IsIgnoredLine("# made by pcopy"));
  EXPECT_FALSE(IsIgnoredLine(" "));
  EXPECT_FALSE(IsIgnoredLine(kDigest + "  x"));
}

}  // namespace
}  // namespace pcopy
