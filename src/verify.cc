#include "verify.h"

#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>

#include "io.h"
#include "process_pool.h"

namespace pcopy {
namespace {

constexpr int kShortRead = -1;  // PoolResult::error when a file ended before the leaf did

struct Context {
  int a_fd;
  int b_fd;
  uint64_t size;
};

// Digests [offset, offset + length) of fd; 0, an errno, or kShortRead.
int DigestRange(int fd, uint64_t offset, uint64_t length, char* buf, XXH128_hash_t* out) {
  XXH3_state_t* state = XXH3_createState();
  if (state == nullptr) return ENOMEM;
  XXH3_128bits_reset(state);
  int rc = 0;
  while (length > 0 && rc == 0) {
    size_t got = 0;
    const size_t want = static_cast<size_t>(std::min<uint64_t>(length, kLeafSize));
    if (Status s = ReadFull(RealSysCalls(), fd, "", buf, want, offset, &got); !s.ok()) {
      rc = s.err() != 0 ? s.err() : EIO;
    } else if (got < want) {
      rc = kShortRead;
    } else {
      XXH3_128bits_update(state, buf, got);
      offset += got;
      length -= got;
    }
  }
  *out = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  return rc;
}

// Runs in a pool worker: arg[0] = leaf index. value[0..1] = a's digest, value[2] = 1 if b's
// leaf differs, value[3] = which file failed (0 a, 1 b).
int LeafTask(const PoolTask& task, PoolResult* result, void* context) noexcept {
  static char* buffer = nullptr;  // one per worker process, kept for its lifetime
  if (buffer == nullptr) buffer = new (std::nothrow) char[kLeafSize];
  if (buffer == nullptr) return ENOMEM;
  const auto* ctx = static_cast<const Context*>(context);
  const uint64_t offset = task.arg[0] * kLeafSize;
  const uint64_t length = std::min(kLeafSize, ctx->size - offset);
  XXH128_hash_t a{}, b{};
  if (int rc = DigestRange(ctx->a_fd, offset, length, buffer, &a); rc != 0) return rc;
  result->value[0] = a.high64;
  result->value[1] = a.low64;
  if (ctx->b_fd >= 0) {
    if (int rc = DigestRange(ctx->b_fd, offset, length, buffer, &b); rc != 0) {
      result->value[3] = 1;
      return rc;
    }
    result->value[2] = XXH128_isEqual(a, b) ? 0 : 1;
  }
  return 0;
}

}  // namespace

Status DigestLeaves(const DigestInput& a, const DigestInput& b, uint64_t size, unsigned jobs,
                    const std::vector<uint64_t>& leaves, LeafReport* out) {
  *out = LeafReport{};
  std::vector<uint64_t> wanted = leaves;
  if (wanted.empty()) {
    for (uint64_t k = 0; k * kLeafSize < size; ++k) wanted.push_back(k);
  }
  if (wanted.empty()) return {};
  Context ctx{a.fd, b.fd, size};
  PoolConfig config;
  config.workers = std::max(1u, std::min<unsigned>(jobs, static_cast<unsigned>(wanted.size())));
  config.queue_capacity = 256;
  config.handler = &LeafTask;
  config.context = &ctx;
  config.name = "pcopy-verify";
  std::unique_ptr<ProcessPool> pool;
  if (Status s = ProcessPool::Start(config, &pool); !s.ok()) return s;
  std::vector<PoolTask> tasks(wanted.size());
  for (size_t i = 0; i < wanted.size(); ++i) {
    tasks[i].id = i;
    tasks[i].arg[0] = wanted[i];
  }
  std::vector<PoolResult> results;
  if (Status s = pool->Map(tasks, &results); !s.ok()) return s;
  if (Status s = pool->Join(); !s.ok()) return s;
  for (size_t i = 0; i < results.size(); ++i) {
    const PoolResult& r = results[i];
    const uint64_t offset = wanted[i] * kLeafSize;
    if (r.error != 0) {
      const std::string& name = r.value[3] == 1 ? b.name : a.name;
      if (r.error == kShortRead) {
        return Status::Failure("read", name, "unexpected end of file (the file changed)", offset);
      }
      return Status::FromErrno("read", name, r.error, offset);
    }
    out->digests.push_back(Digest128{r.value[0], r.value[1]});
    if (r.value[2] != 0) out->differing.push_back(wanted[i]);
  }
  return {};
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
  XXH128_canonical_t root;
  XXH128_canonicalFromHash(&root, XXH3_128bits_digest(state));
  XXH3_freeState(state);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : root.digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 15];
  }
  return hex;
}

Status FirstDifference(const DigestInput& a, const DigestInput& b, uint64_t offset, uint64_t length,
                       bool* found, uint64_t* where) {
  *found = false;
  std::vector<char> ba(kLeafSize), bb(kLeafSize);
  while (length > 0) {
    const size_t want = static_cast<size_t>(std::min(length, kLeafSize));
    size_t na = 0, nb = 0;
    if (Status s = ReadFull(RealSysCalls(), a.fd, a.name, ba.data(), want, offset, &na); !s.ok()) {
      return s;
    }
    if (Status s = ReadFull(RealSysCalls(), b.fd, b.name, bb.data(), want, offset, &nb); !s.ok()) {
      return s;
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
    if (Status s =
            ReadFull(RealSysCalls(), in.fd, in.name, buffer.data(), buffer.size(), offset, &got);
        !s.ok()) {
      return s;
    }
    if (got == 0) break;
    stream.Update(buffer.data(), got);
    offset += got;
  }
  *leaves = stream.Finish();
  return {};
}

Status CompareToEnd(const DigestInput& a, const DigestInput& b, bool* found, uint64_t* where,
                    bool* one_ended) {
  *found = *one_ended = false;
  std::vector<char> ba(kLeafSize), bb(kLeafSize);
  for (uint64_t offset = 0;;) {
    size_t na = 0, nb = 0;
    if (Status s = ReadFull(RealSysCalls(), a.fd, a.name, ba.data(), kLeafSize, offset, &na);
        !s.ok()) {
      return s;
    }
    if (Status s = ReadFull(RealSysCalls(), b.fd, b.name, bb.data(), kLeafSize, offset, &nb);
        !s.ok()) {
      return s;
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

}  // namespace pcopy
