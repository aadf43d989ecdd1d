// device_dest.h: what a copy onto a block device does differently from one onto a file (see
// os/block_device.h): the options it refuses, the device opened and sized, every byte of SOURCE
// written (a hole would let the device's old contents show through), and the words that say the
// device is partly written when the copy fails. Parent only.
#pragma once

#include <sys/stat.h>

#include <string>
#include <vector>

#include "app/options.h"
#include "base/byte_range.h"
#include "base/status.h"
#include "os/block_device.h"
#include "os/destination.h"
#include "os/source_file.h"
#include "os/sys_calls.h"

namespace pcopy {

// The options that need a file pcopy creates (-p and --preserve, --resume, --reflink=always), or
// SOURCE being the device itself: refused in one line, before anything is opened for writing.
Status CheckDeviceDest(const Options& o, const Destination& dst, const struct stat& src_st);

// Opens the device (refused if mounted or in use), checks that SOURCE fits, and sets *extents to
// the whole of SOURCE.
Status PrepareDeviceDest(const Options& o, const SysCalls& sys, const SourceFile& src,
                         const Destination& dst, DeviceDest* device,
                         std::vector<ByteRange>* extents);

// "DEST '/dev/sdb' is partly written (a device is written in place)", for an error's note or a
// signal's message.
std::string PartlyWritten(const Destination& dst);

}  // namespace pcopy
