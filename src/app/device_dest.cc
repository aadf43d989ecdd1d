#include "app/device_dest.h"

#include "base/size_parse.h"
#include "exec/entry_copy.h"
#include "os/data_extents.h"

namespace pcopy {

Status CheckDeviceDest(const Options& o, const Destination& dst, const struct stat& src_st) {
  if (S_ISBLK(src_st.st_mode) && src_st.st_rdev == dst.rdev) {
    return Status::Message(Quote(o.source) + " and " + Quote(dst.display) + " are the same file");
  }
  if (o.method == Method::kCopyFileRange) {
    // The kernel's copy_file_range writes regular files only (EINVAL); with "+pread" it falls
    // back, and auto chooses pread/pwrite.
    return Status::Failure("--method copy_file_range cannot write to", dst.display,
                           "a block device (copy_file_range+pread falls back to pread/pwrite)");
  }
  const char* option = PreservesAny(o.preserve)            ? "-p, -a and --preserve"
                       : o.resume == ResumeMode::kAlways   ? "--resume"
                       : o.reflink == ReflinkMode::kAlways ? "--reflink=always"
                                                           : nullptr;
  if (option == nullptr) return {};
  return Status::Failure(std::string(option) + " cannot be used with", dst.display,
                         "a block device is written in place, not created");
}

Status PrepareDeviceDest(const Options& o, const SysCalls& sys, const SourceFile& src,
                         const Destination& dst, DeviceDest* device,
                         std::vector<ByteRange>* extents) {
  if (Status s = OpenDeviceDest(sys, dst.path, dst.display, device); !s.ok()) return s;
  if (src.size > device->size) {
    return Status::Failure("not writing to", dst.display,
                           Quote(o.source) + " holds " + FormatBytes(src.size) +
                               ", more than the device's " + FormatBytes(device->size));
  }
  return SourceExtents(sys, src.fd.get(), src.size, SparseMode::kNever, o.source, extents);
}

std::string PartlyWritten(const Destination& dst) {
  return "DEST " + Quote(dst.display) + " is partly written (a device is written in place)";
}

}  // namespace pcopy
