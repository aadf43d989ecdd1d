// size_parse.h: parsing and printing byte sizes and rates ("4K", "1MiB", "2.5 GB/s").
// Pure functions; no process or I/O contract.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pcopy {

// Parses a non-negative byte count: digits with an optional suffix K, M, G, T, P (powers of 1024,
// as with cp/dd), KiB, MiB, GiB, TiB, PiB (the same), KB, MB, GB, TB, PB (powers of 1000) or B.
// Suffixes are case-insensitive. Returns nullopt on any junk, a sign, or overflow of 64 bits.
std::optional<uint64_t> ParseSize(std::string_view text);

// "0 B", "4.00 KiB", "1.50 GiB": binary units, three significant digits.
std::string FormatBytes(uint64_t bytes);

// "850 MB/s", "2.61 GB/s": decimal units, as dd reports throughput.
std::string FormatRate(double bytes_per_second);

// "0:07", "1:02:03"; "--:--" when unknown.
std::string FormatDuration(double seconds);

}  // namespace pcopy
