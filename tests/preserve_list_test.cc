// preserve_list_test.cc: cp's --preserve word lists (os/metadata.h ParsePreserveList).
#include <string>

#include "os/metadata.h"
#include "os/xattr_copy.h"
#include "test_util.h"

namespace pcopy {
namespace {

constexpr const char* kValid =
    "valid arguments are 'mode', 'timestamps', 'ownership', 'links', 'context', 'xattr', 'all'";

bool Same(const PreserveSet& a, const PreserveSet& b) {
  return a.mode == b.mode && a.ownership == b.ownership && a.timestamps == b.timestamps &&
         a.links == b.links && a.xattr == b.xattr && a.xattr_required == b.xattr_required;
}

TEST(MetadataPreserveList, EachWordSetsItsAttributeOnly) {
  PreserveSet set;
  ASSERT_OK(ParsePreserveList("mode", true, &set));
  EXPECT_TRUE(Same(set, PreserveSet{.mode = true}));
  ASSERT_OK(ParsePreserveList("ownership,timestamps", true, &set));
  EXPECT_TRUE(Same(set, PreserveSet{.mode = true, .ownership = true, .timestamps = true}));
  ASSERT_OK(ParsePreserveList("links", true, &set));
  EXPECT_TRUE(set.links);
  EXPECT_FALSE(set.xattr);
}

TEST(MetadataPreserveList, XattrByNameIsRequiredButAllIsNot) {
  PreserveSet named;
  ASSERT_OK(ParsePreserveList("xattr", true, &named));
  EXPECT_TRUE(named.xattr);
  EXPECT_TRUE(named.xattr_required);

  PreserveSet all;
  ASSERT_OK(ParsePreserveList("all", true, &all));
  EXPECT_TRUE(Same(
      all, PreserveSet{
               .mode = true, .ownership = true, .timestamps = true, .links = true, .xattr = true}));
}

TEST(MetadataPreserveList, NoPreserveClears) {
  PreserveSet set;
  ASSERT_OK(ParsePreserveList("all,xattr", true, &set));
  ASSERT_OK(ParsePreserveList("mode,xattr", false, &set));
  EXPECT_TRUE(Same(set, PreserveSet{.ownership = true, .timestamps = true, .links = true}));
  ASSERT_OK(ParsePreserveList("all", false, &set));
  EXPECT_TRUE(Same(set, PreserveSet{}));
}

TEST(MetadataPreserveList, UniquePrefixesStandForTheirWord) {
  PreserveSet set;
  ASSERT_OK(ParsePreserveList("mo,t,own,x", true, &set));
  EXPECT_TRUE(Same(set, PreserveSet{.mode = true,
                                    .ownership = true,
                                    .timestamps = true,
                                    .xattr = true,
                                    .xattr_required = true}));
}

TEST(MetadataPreserveList, UnknownWordIsQuotedWithTheValidOnes) {
  PreserveSet set{.mode = true};
  const Status s = ParsePreserveList("timestamps,foo", true, &set);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), std::string("invalid argument 'foo' for '--preserve'; ") + kValid);
  EXPECT_TRUE(Same(set, PreserveSet{.mode = true})) << "changed by a list that failed";

  const Status no = ParsePreserveList("modes", false, &set);
  EXPECT_EQ(no.ToString(), std::string("invalid argument 'modes' for '--no-preserve'; ") + kValid);
}

TEST(MetadataPreserveList, HostileWordStaysOnOneLine) {
  PreserveSet set;
  const Status s = ParsePreserveList("mode,a\nb", true, &set);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString().find('\n'), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find("'a\\nb'"), std::string::npos) << s.ToString();
}

TEST(MetadataPreserveList, EmptyWordIsAmbiguous) {
  PreserveSet set;
  for (const char* list : {"", "mode,", ",mode", "mode,,xattr"}) {
    const Status s = ParsePreserveList(list, true, &set);
    EXPECT_EQ(s.ToString(), std::string("ambiguous argument '' for '--preserve'; ") + kValid)
        << "list: " << list;
  }
}

TEST(MetadataPreserveList, ContextCanBeDroppedButNotKept) {
  PreserveSet set{.mode = true};
  ASSERT_OK(ParsePreserveList("context", false, &set));
  EXPECT_TRUE(Same(set, PreserveSet{.mode = true}));
  const Status s = ParsePreserveList("mode,context", true, &set);
  EXPECT_EQ(s.ToString(), "cannot preserve security context: pcopy does not copy SELinux labels");
}

TEST(MetadataPreserveList, XattrNamesCopied) {
  for (const char* name :
       {"user.a", "trusted.overlay.opaque", "security.capability", "security.ima"}) {
    EXPECT_TRUE(IsCopiedXattr(name)) << name;
  }
  for (const char* name : {"security.selinux", "security.evm", "system.posix_acl_access",
                           "system.nfs4_acl", "user", "users.a", "other.a", ""}) {
    EXPECT_FALSE(IsCopiedXattr(name)) << name;
  }
}

}  // namespace
}  // namespace pcopy
