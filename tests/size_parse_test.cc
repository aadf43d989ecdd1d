#include "base/size_parse.h"

#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "test_util.h"

namespace pcopy {
namespace {

constexpr uint64_t kKi = 1024;

TEST(ParseSizeTest, PlainNumbers) {
  EXPECT_EQ(ParseSize("0"), std::optional<uint64_t>(0));
  EXPECT_EQ(ParseSize("4096"), std::optional<uint64_t>(4096));
  EXPECT_EQ(ParseSize("007"), std::optional<uint64_t>(7));
}

TEST(ParseSizeTest, BinarySuffixes) {
  EXPECT_EQ(ParseSize("4K"), std::optional<uint64_t>(4 * kKi));
  EXPECT_EQ(ParseSize("4k"), std::optional<uint64_t>(4 * kKi));
  EXPECT_EQ(ParseSize("1M"), std::optional<uint64_t>(kKi * kKi));
  EXPECT_EQ(ParseSize("1MiB"), std::optional<uint64_t>(kKi * kKi));
  EXPECT_EQ(ParseSize("1mib"), std::optional<uint64_t>(kKi * kKi));
  EXPECT_EQ(ParseSize("2G"), std::optional<uint64_t>(2 * kKi * kKi * kKi));
  EXPECT_EQ(ParseSize("1GiB"), std::optional<uint64_t>(kKi * kKi * kKi));
  EXPECT_EQ(ParseSize("1KiB"), std::optional<uint64_t>(kKi));
  EXPECT_EQ(ParseSize("3T"), std::optional<uint64_t>(3 * kKi * kKi * kKi * kKi));
  EXPECT_EQ(ParseSize("1TiB"), std::optional<uint64_t>(kKi * kKi * kKi * kKi));
  EXPECT_EQ(ParseSize("2P"), std::optional<uint64_t>(2 * kKi * kKi * kKi * kKi * kKi));
  EXPECT_EQ(ParseSize("1PiB"), std::optional<uint64_t>(kKi * kKi * kKi * kKi * kKi));
}

TEST(ParseSizeTest, DecimalSuffixes) {
  EXPECT_EQ(ParseSize("1KB"), std::optional<uint64_t>(1000));
  EXPECT_EQ(ParseSize("1kb"), std::optional<uint64_t>(1000));
  EXPECT_EQ(ParseSize("1MB"), std::optional<uint64_t>(1000000));
  EXPECT_EQ(ParseSize("5GB"), std::optional<uint64_t>(5000000000ull));
  EXPECT_EQ(ParseSize("1TB"), std::optional<uint64_t>(1000000000000ull));
  EXPECT_EQ(ParseSize("1PB"), std::optional<uint64_t>(1000000000000000ull));
}

TEST(ParseSizeTest, BytesSuffix) {
  EXPECT_EQ(ParseSize("1B"), std::optional<uint64_t>(1));
  EXPECT_EQ(ParseSize("512b"), std::optional<uint64_t>(512));
  EXPECT_EQ(ParseSize("0K"), std::optional<uint64_t>(0));
}

TEST(ParseSizeTest, RejectsJunk) {
  for (const char* bad :
       {"",   "-1",  "+1", "1X",  "1.M", ".5M", "1.5", "1.5B", "1..5M", "1.5.M", " 1",    "1 K",
        "1 ", "abc", "K",  "KiB", "1KK", "1Ki", "1iB", "0x10", "1e3",   "1_000", "1,000", "4K\n"}) {
    EXPECT_EQ(ParseSize(bad), std::nullopt) << "'" << bad << "'";
  }
}

// dd and cp take whole numbers only; rsync, pv and sort take decimals, and users type them.
TEST(ParseSizeTest, DecimalFractionsRoundToTheNearestByte) {
  EXPECT_EQ(ParseSize("1.5M"), std::optional<uint64_t>(3 * kKi * kKi / 2));
  EXPECT_EQ(ParseSize("0.5K"), std::optional<uint64_t>(512));
  EXPECT_EQ(ParseSize("2.25GiB"), std::optional<uint64_t>(9 * kKi * kKi * kKi / 4));
  EXPECT_EQ(ParseSize("1.5MB"), std::optional<uint64_t>(1500000));
  EXPECT_EQ(ParseSize("0.1K"), std::optional<uint64_t>(102));   // 102.4
  EXPECT_EQ(ParseSize("0.0007K"), std::optional<uint64_t>(1));  // 0.7168
  EXPECT_EQ(ParseSize("4.0"), std::optional<uint64_t>(4));      // no fraction of a byte
  EXPECT_EQ(ParseSize("1.000000000000000000000001K"), std::optional<uint64_t>(1024));
  EXPECT_EQ(ParseSize("15.99999999999999999999E"), std::nullopt);  // no E suffix
  EXPECT_EQ(ParseSize("16383.999P"), std::optional<uint64_t>(18446742947809644773ull));
  EXPECT_EQ(ParseSize("16383.999999999999999P"), std::optional<uint64_t>(UINT64_MAX));
  EXPECT_EQ(ParseSize("16383.99999999999999999P"), std::nullopt);  // rounds to 2^64
  EXPECT_EQ(ParseSize("16384P"), std::nullopt);
}

TEST(ParseSizeTest, RejectsEmbeddedNul) {
  EXPECT_EQ(ParseSize(std::string_view("1\0K", 3)), std::nullopt);
}

TEST(ParseSizeTest, LargestValueAccepted) {
  EXPECT_EQ(ParseSize("18446744073709551615"),
            std::optional<uint64_t>(std::numeric_limits<uint64_t>::max()));
  EXPECT_EQ(ParseSize("16777215T"), std::optional<uint64_t>(16777215ull << 40));
  EXPECT_EQ(ParseSize("15E"), std::nullopt);  // no exbi suffix
}

TEST(ParseSizeTest, RejectsOverflow) {
  EXPECT_EQ(ParseSize("18446744073709551616"), std::nullopt);
  EXPECT_EQ(ParseSize("99999999999999999999"), std::nullopt);
  EXPECT_EQ(ParseSize("999999999999999999999999999999"), std::nullopt);
  EXPECT_EQ(ParseSize("16777216T"), std::nullopt);  // exactly 2^64
  EXPECT_EQ(ParseSize("16384P"), std::nullopt);     // exactly 2^64
  EXPECT_EQ(ParseSize("18446744073709551615K"), std::nullopt);
  EXPECT_EQ(ParseSize("18446744073709552KB"), std::nullopt);
}

TEST(FormatBytesTest, Examples) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1), "1 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1024), "1.00 KiB");
  EXPECT_EQ(FormatBytes(4096), "4.00 KiB");
  EXPECT_EQ(FormatBytes(1536), "1.50 KiB");
  EXPECT_EQ(FormatBytes(100 * kKi), "100 KiB");
  EXPECT_EQ(FormatBytes(50 * kKi + 512), "50.5 KiB");
  EXPECT_EQ(FormatBytes(kKi * kKi), "1.00 MiB");
  EXPECT_EQ(FormatBytes(512 * kKi * kKi), "512 MiB");
  EXPECT_EQ(FormatBytes(3 * kKi * kKi * kKi / 2), "1.50 GiB");
  EXPECT_EQ(FormatBytes(2 * kKi * kKi * kKi * kKi), "2.00 TiB");
  EXPECT_EQ(FormatBytes(std::numeric_limits<uint64_t>::max()), "16.0 EiB");
}

// "three significant digits": a value just below the next unit must not print as 4 digits
// ("1024 KiB", "10.00 KiB").
TEST(FormatBytesTest, RoundingNeverShowsFourDigits) {
  EXPECT_EQ(FormatBytes(kKi * kKi - 1), "1.00 MiB");
  EXPECT_EQ(FormatBytes(10 * kKi - 1), "10.0 KiB");
  EXPECT_EQ(FormatBytes(100 * kKi - 1), "100 KiB");
}

// --si for the span of a test: powers of 1000, as dd reports throughput.
class SiUnits {
 public:
  SiUnits() { SetUnits(Units::kSi); }
  ~SiUnits() { SetUnits(Units::kBinary); }
};

// One system for sizes and rates, as pv has: binary unless --si, which gives dd's.
TEST(FormatRateTest, Examples) {
  const struct {
    Units units;
    double rate;
    const char* text;
  } cases[] = {{Units::kBinary, 850.0 * kKi * kKi, "850 MiB/s"},
               {Units::kBinary, 100e6, "95.4 MiB/s"},
               {Units::kBinary, 2.5 * kKi * kKi * kKi, "2.50 GiB/s"},
               {Units::kBinary, 1023, "1023 B/s"},
               {Units::kBinary, 1024, "1.00 KiB/s"},
               {Units::kSi, 850e6, "850 MB/s"},
               {Units::kSi, 2.61e9, "2.61 GB/s"},
               {Units::kSi, 12.5e6, "12.5 MB/s"},
               {Units::kSi, 999, "999 B/s"},
               {Units::kSi, 1000, "1.00 kB/s"},
               {Units::kSi, 3e12, "3.00 TB/s"}};
  for (const auto& c : cases) {
    SetUnits(c.units);
    EXPECT_EQ(FormatRate(c.rate), c.text);
  }
  SetUnits(Units::kBinary);
}

TEST(FormatBytesTest, SiWithTheOption) {
  const SiUnits si;
  EXPECT_EQ(FormatBytes(999), "999 B");
  EXPECT_EQ(FormatBytes(1000), "1.00 kB");
  EXPECT_EQ(FormatBytes(1536), "1.54 kB");
  EXPECT_EQ(FormatBytes(1500000000), "1.50 GB");
  EXPECT_EQ(FormatBytes(999999), "1.00 MB");
}

TEST(FormatRateTest, NonsenseIsZero) {
  const std::string zero = FormatRate(0);
  EXPECT_EQ(zero.find_first_not_of("0. B/s"), std::string::npos) << zero;
  EXPECT_EQ(FormatRate(-5), zero);
  EXPECT_EQ(FormatRate(std::nan("")), zero);
  EXPECT_EQ(FormatRate(std::numeric_limits<double>::infinity()), zero);
}

TEST(FormatRateTest, RoundingNeverShowsFourDigits) {
  const SiUnits si;
  EXPECT_EQ(FormatRate(999.9e3), "1.00 MB/s");
  EXPECT_EQ(FormatRate(9.999e6), "10.0 MB/s");
}

TEST(FormatDurationTest, Examples) {
  EXPECT_EQ(FormatDuration(0), "0:00");
  EXPECT_EQ(FormatDuration(7), "0:07");
  EXPECT_EQ(FormatDuration(7.4), "0:07");
  EXPECT_EQ(FormatDuration(59.6), "1:00");
  EXPECT_EQ(FormatDuration(62), "1:02");
  EXPECT_EQ(FormatDuration(3599), "59:59");
  EXPECT_EQ(FormatDuration(3600), "1:00:00");
  EXPECT_EQ(FormatDuration(3723), "1:02:03");
  EXPECT_EQ(FormatDuration(36000), "10:00:00");
}

TEST(FormatDurationTest, UnknownIsDashes) {
  EXPECT_EQ(FormatDuration(-1), "--:--");
  EXPECT_EQ(FormatDuration(std::nan("")), "--:--");
  EXPECT_EQ(FormatDuration(std::numeric_limits<double>::infinity()), "--:--");
}

}  // namespace
}  // namespace pcopy
