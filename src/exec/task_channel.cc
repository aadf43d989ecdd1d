#include "exec/task_channel.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace pcopy {

Status MakeChannel(UniqueFd* parent_end, UniqueFd* worker_end) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return Status::FromErrno("cannot create a channel to a worker", "", errno);
  }
  *parent_end = UniqueFd(fds[0]);
  *worker_end = UniqueFd(fds[1]);
  // A batch message can be far larger than the default buffer holds several of.
  const int size = static_cast<int>(kMaxMessage * 4);
  for (int fd : fds) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  return {};
}

int SendMessage(int socket, std::span<const char> bytes, std::span<const int> fds,
                bool nonblocking) {
  if (bytes.size() > kMaxMessage || fds.size() > kMaxMessageFds) return EMSGSIZE;
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxMessageFds)];
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  const int flags = MSG_NOSIGNAL | (nonblocking ? MSG_DONTWAIT : 0);
  for (;;) {
    if (sendmsg(socket, &msg, flags) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

ssize_t ReceiveMessage(int socket, std::vector<char>* bytes, std::vector<UniqueFd>* fds,
                       bool nonblocking) {
  bytes->resize(kMaxMessage);
  fds->clear();
  iovec iov{bytes->data(), bytes->size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxMessageFds)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const int flags = MSG_CMSG_CLOEXEC | (nonblocking ? MSG_DONTWAIT : 0);
  ssize_t n;
  while ((n = recvmsg(socket, &msg, flags)) < 0 && errno == EINTR) {
  }
  if (n < 0) return -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds->emplace_back(fd);
    }
  }
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
    errno = EMSGSIZE;
    return -1;
  }
  bytes->resize(static_cast<size_t>(n));
  return n;
}

}  // namespace pcopy
