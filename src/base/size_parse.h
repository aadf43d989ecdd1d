// size_parse.h: parsing and printing byte sizes and rates ("4K", "1MiB", "2.5 GB/s").
// Pure functions; no process or I/O contract.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pcopy {

// Parses a non-negative byte count: digits, optionally a decimal fraction ("1.5M", rounded to
// the nearest byte; never of bytes alone), with an optional suffix K, M, G, T, P (powers of 1024,
// as with cp/dd), KiB, MiB, GiB, TiB, PiB (the same), KB, MB, GB, TB, PB (powers of 1000) or B.
// Suffixes are case-insensitive. Returns nullopt on any junk, a sign, or overflow of 64 bits.
std::optional<uint64_t> ParseSize(std::string_view text);

// The units sizes and rates are printed in: one system for both, as pv prints them. Binary
// (KiB, MiB/s) unless --si asks for powers of 1000 (kB, MB/s, as dd reports throughput).
enum class Units { kBinary, kSi };
// Set once by the command's main, before any output; every later Format* follows it.
void SetUnits(Units units);

// "0 B", "4.00 KiB", "1.50 GiB" (--si: "4.10 kB", "1.61 GB"): three significant digits.
std::string FormatBytes(uint64_t bytes);

// "850 MiB/s", "2.61 GiB/s" (--si: "891 MB/s", "2.80 GB/s").
std::string FormatRate(double bytes_per_second);

// "0:07", "1:02:03"; "--:--" when unknown.
std::string FormatDuration(double seconds);

}  // namespace pcopy
