// copy_setup.h: what rank 0 tells every rank before a file copy across ranks (mpi_copy.h): the
// file to write, the SOURCE it sized, and what is left to copy; and its byte encoding. Pure data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/byte_range.h"

namespace pcopy {

struct CopySetup {
  std::string error;  // not empty: rank 0 failed before the copy began (it reports why)
  int exit_code = 0;
  std::string temp;     // the temporary (or the partial copy of a resumable copy) every rank opens
  std::string display;  // DEST as rank 0 names it in messages
  std::string machine;  // rank 0's (MpiWorld::machine): a rank on it shares its page cache
  uint64_t size = 0;
  int64_t mtime_sec = 0, mtime_nsec = 0;  // a rank that opens another SOURCE must not copy it
  bool kept = false;                      // -n or -u keeps the existing DEST: nothing to copy
  // A resumable copy (app/resume_copy.h): the ranks mark their units durable (mpi_resume.h).
  bool resumable = false;
  std::vector<ByteRange> left;  // the bytes to copy: [0, size), or what a resumed copy lacks
  uint64_t before = 0;          // a resumed copy's durable bytes
};

std::string EncodeSetup(const CopySetup& s);
// A damaged message gives a setup whose error says so.
CopySetup DecodeSetup(const std::string& in);

}  // namespace pcopy
