#include "copy/digest.h"

#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>

#include "copy/io.h"
#include "os/stream_io.h"

namespace pcopy {
namespace {

// A digest as xxhsum prints it: its canonical (big-endian) bytes in lowercase hex.
std::string CanonicalHex(XXH128_hash_t h) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : c.digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 15];
  }
  return hex;
}

// What fd gives, in order, until its end (standard input, a pipe): os/stream_io.h's ReadStream,
// which waits in the guard so that a stalled pipe does not keep pcopy deaf to Ctrl-C.
template <typename Take>
Status ReadInOrder(const DigestInput& in, SignalGuard* signals, Take take) {
  std::vector<char> buffer(kLeafSize);
  return ReadStream(in.fd, in.name, signals, buffer, [&](const char* data, size_t n) {
    take(data, n);
    return Status();
  });
}

}  // namespace

int DigestRange(int fd, uint64_t offset, uint64_t length, char* buf, Digest128* out) noexcept {
  XXH3_state_t* state = XXH3_createState();
  if (state == nullptr) return ENOMEM;
  XXH3_128bits_reset(state);
  int rc = 0;
  while (length > 0 && rc == 0) {
    size_t got = 0;
    const size_t want = static_cast<size_t>(std::min<uint64_t>(length, kLeafSize));
    if (IoError e = ReadFull(RealSysCalls(), fd, IoFile::kSource, buf, want, offset, &got);
        !e.ok()) {
      rc = e.err != 0 ? e.err : EIO;
    } else if (got < want) {
      rc = kShortRead;
    } else {
      XXH3_128bits_update(state, buf, got);
      offset += got;
      length -= got;
    }
  }
  const XXH128_hash_t h = XXH3_128bits_digest(state);
  *out = Digest128{h.high64, h.low64};
  XXH3_freeState(state);
  return rc;
}

StreamDigests::StreamDigests() : state_(XXH3_createState()) {
  if (state_ == nullptr) throw std::bad_alloc();
  XXH3_128bits_reset(state_);
}

StreamDigests::~StreamDigests() { XXH3_freeState(state_); }

void StreamDigests::Update(const char* data, size_t length) {
  while (length > 0) {
    const size_t take = static_cast<size_t>(std::min<uint64_t>(length, kLeafSize - in_leaf_));
    XXH3_128bits_update(state_, data, take);
    data += take;
    length -= take;
    in_leaf_ += take;
    if (in_leaf_ == kLeafSize) CloseLeaf();
  }
}

const std::vector<Digest128>& StreamDigests::Finish() {
  if (in_leaf_ > 0) CloseLeaf();
  return digests_;
}

void StreamDigests::CloseLeaf() {
  const XXH128_hash_t h = XXH3_128bits_digest(state_);
  digests_.push_back(Digest128{h.high64, h.low64});
  XXH3_128bits_reset(state_);
  in_leaf_ = 0;
}

std::string TreeDigest(const std::vector<Digest128>& leaves) {
  XXH3_state_t* state = XXH3_createState();
  if (state == nullptr) throw std::bad_alloc();
  XXH3_128bits_reset(state);
  for (const Digest128& d : leaves) {
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH128_hash_t{d.low, d.high});
    XXH3_128bits_update(state, c.digest, sizeof c.digest);
  }
  const XXH128_hash_t root = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  return CanonicalHex(root);
}

Status FirstDifference(const DigestInput& a, const DigestInput& b, uint64_t offset, uint64_t length,
                       bool* found, uint64_t* where) {
  *found = false;
  std::vector<char> ba(kLeafSize), bb(kLeafSize);
  while (length > 0) {
    const size_t want = static_cast<size_t>(std::min(length, kLeafSize));
    size_t na = 0, nb = 0;
    if (IoError e = ReadFull(RealSysCalls(), a.fd, IoFile::kSource, ba.data(), want, offset, &na);
        !e.ok()) {
      return ToStatus(e, a.name);
    }
    if (IoError e = ReadFull(RealSysCalls(), b.fd, IoFile::kSource, bb.data(), want, offset, &nb);
        !e.ok()) {
      return ToStatus(e, b.name);
    }
    const size_t n = std::min(na, nb);
    const auto mismatch = std::mismatch(ba.begin(), ba.begin() + static_cast<long>(n), bb.begin());
    if (mismatch.first != ba.begin() + static_cast<long>(n) || na != nb) {
      *found = true;
      *where = offset + static_cast<uint64_t>(mismatch.first - ba.begin());
      return {};
    }
    if (n < want) return {};
    offset += n;
    length -= n;
  }
  return {};
}

Status DigestToEnd(const DigestInput& in, std::vector<Digest128>* leaves) {
  std::vector<char> buffer(kLeafSize);
  StreamDigests stream;
  for (uint64_t offset = 0;;) {
    size_t got = 0;
    if (IoError e = ReadFull(RealSysCalls(), in.fd, IoFile::kSource, buffer.data(), buffer.size(),
                             offset, &got);
        !e.ok()) {
      return ToStatus(e, in.name);
    }
    if (got == 0) break;
    stream.Update(buffer.data(), got);
    offset += got;
  }
  *leaves = stream.Finish();
  return {};
}

Status CompareToEnd(const DigestInput& a, const DigestInput& b, bool* found, uint64_t* where,
                    bool* one_ended, SignalGuard* signals) {
  *found = *one_ended = false;
  std::vector<char> ba(kLeafSize), bb(kLeafSize);
  for (uint64_t offset = 0;;) {
    if (signals != nullptr && signals->Poll() != 0) {
      return Status::Interrupted(signals->terminating_signal());
    }
    size_t na = 0, nb = 0;
    if (IoError e =
            ReadFull(RealSysCalls(), a.fd, IoFile::kSource, ba.data(), kLeafSize, offset, &na);
        !e.ok()) {
      return ToStatus(e, a.name);
    }
    if (IoError e =
            ReadFull(RealSysCalls(), b.fd, IoFile::kSource, bb.data(), kLeafSize, offset, &nb);
        !e.ok()) {
      return ToStatus(e, b.name);
    }
    const size_t n = std::min(na, nb);
    const auto end = ba.begin() + static_cast<long>(n);
    const auto mismatch = std::mismatch(ba.begin(), end, bb.begin());
    *where = offset + static_cast<uint64_t>(mismatch.first - ba.begin());
    if (mismatch.first != end || na != nb) {
      *found = true;
      *one_ended = mismatch.first == end;
      return {};
    }
    if (n < kLeafSize) return {};
    offset += n;
  }
}

Status DigestStream(const DigestInput& in, SignalGuard* signals, std::vector<Digest128>* leaves) {
  StreamDigests stream;
  if (Status s =
          ReadInOrder(in, signals, [&](const char* data, size_t n) { stream.Update(data, n); });
      !s.ok()) {
    return s;
  }
  *leaves = stream.Finish();
  return {};
}

Status DigestWhole(const DigestInput& in, SignalGuard* signals, std::string* hex) {
  const std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(),
                                                                       &XXH3_freeState);
  if (state == nullptr) throw std::bad_alloc();
  XXH3_128bits_reset(state.get());
  const Status s = ReadInOrder(
      in, signals, [&](const char* data, size_t n) { XXH3_128bits_update(state.get(), data, n); });
  if (s.ok()) *hex = CanonicalHex(XXH3_128bits_digest(state.get()));
  return s;
}

}  // namespace pcopy
