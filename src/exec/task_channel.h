// task_channel.h: the link between the parent and one tree worker: a SOCK_SEQPACKET socket pair,
// so every message arrives whole and alone, and descriptors travel with it (SCM_RIGHTS).
//
// Why descriptors and not paths: a worker then opens a file relative to the very directory the
// parent examined (openat), so a tree deeper than PATH_MAX works, a directory renamed or replaced
// by a symlink during the walk cannot redirect a write outside DEST, and no worker resolves a path
// twice. Messages are small (a directory's batch of names), so one send never blocks for long;
// the parent still sends without blocking and keeps at most a few messages in flight per worker.
// Both ends are O_CLOEXEC; a received descriptor is O_CLOEXEC too (MSG_CMSG_CLOEXEC).
#pragma once

#include <sys/types.h>

#include <span>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"

namespace pcopy {

// The most bytes one message may hold; a larger message is refused by Send (EMSGSIZE).
inline constexpr size_t kMaxMessage = 128 << 10;
// The most descriptors one message carries.
inline constexpr size_t kMaxMessageFds = 2;

// A connected pair: one end for the parent, one for the worker.
Status MakeChannel(UniqueFd* parent_end, UniqueFd* worker_end);

// Sends bytes and fds as one message. Returns 0, or an errno (EAGAIN when nonblocking and full).
int SendMessage(int socket, std::span<const char> bytes, std::span<const int> fds,
                bool nonblocking);

// Receives one message into *bytes (resized to its length) and its descriptors into *fds.
// Returns the length, 0 when the other end has closed, or -1 with errno (EAGAIN when nonblocking
// and nothing is waiting). EINTR is retried.
ssize_t ReceiveMessage(int socket, std::vector<char>* bytes, std::vector<UniqueFd>* fds,
                       bool nonblocking);

}  // namespace pcopy
