#include "copy/io_error.h"

#include <cerrno>

namespace pcopy {
namespace {

const char* OpName(IoOp op) {
  switch (op) {
    case IoOp::kRead:
    case IoOp::kSourceEnded:
      return "read";
    case IoOp::kWrite:
      return "write";
    case IoOp::kCopyFileRange:
      return "copy_file_range";
    case IoOp::kSendfile:
      return "sendfile";
    case IoOp::kSeek:
      return "seek";
    case IoOp::kStat:
      return "cannot stat";
    case IoOp::kMmap:
      return "mmap";
    case IoOp::kOpenDirect:
      return "cannot open with O_DIRECT";
    case IoOp::kReopen:
      return "cannot reopen for sendfile";
    case IoOp::kBufferTooSmall:
      return "direct I/O into";
    case IoOp::kSync:
      return "fdatasync";
    case IoOp::kOpen:
    case IoOp::kReplaced:
    case IoOp::kAllocate:
    case IoOp::kNone:
      break;
  }
  return "";
}

}  // namespace

Status ToStatus(const IoError& e, std::string_view src_name, std::string_view dst_name) {
  if (e.ok()) return {};
  const std::string_view name = e.file == IoFile::kDest ? dst_name : src_name;
  const std::optional<uint64_t> offset =
      e.has_offset ? std::optional<uint64_t>(e.offset) : std::nullopt;
  switch (e.op) {
    case IoOp::kSourceEnded:
      return Status::Failure(OpName(e.op), src_name,
                             "unexpected end of file (the source changed during the copy)", offset);
    case IoOp::kBufferTooSmall:
      return Status::Failure(OpName(e.op), dst_name,
                             "--buffer-size must be at least 4K with --method direct");
    case IoOp::kOpen:
      return Status::FromErrno("cannot open", name, e.err);
    case IoOp::kReplaced:
      return Status::Failure("cannot copy", name,
                             "it was replaced during the copy (not the file pcopy examined)");
    case IoOp::kAllocate:
      return Status::FromErrno("allocate a copy buffer for", dst_name, e.err != 0 ? e.err : ENOMEM);
    case IoOp::kCopyFileRange:
    case IoOp::kSendfile:
      return Status::FromErrno(OpName(e.op), src_name, e.err, offset).WithSecondPath(dst_name);
    default:
      return Status::FromErrno(OpName(e.op), name, e.err, offset);
  }
}

}  // namespace pcopy
