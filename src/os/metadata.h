// TEMPORARY: replaced by the metadata unit being written alongside.
#pragma once
#include <sys/stat.h>
#include <string>
#include <string_view>
#include "base/status.h"
#include "os/sys_calls.h"
namespace pcopy {
struct PreserveSet { bool mode=false, ownership=false, timestamps=false, links=false, xattr=false; };
Status ApplyMetadata(const SysCalls& sys, int dst_fd, const struct stat& src, int src_fd,
                     const PreserveSet& preserve, mode_t umask, const std::string& display_name);
}
namespace pcopy { Status ParsePreserveList(std::string_view list, bool value, PreserveSet* set); }
