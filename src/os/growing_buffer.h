// growing_buffer.h: a byte buffer for a kernel answer of unknown length (an xattr list or value,
// a symlink target): 1 KiB inline, so the common small answer allocates nothing, and a heap
// buffer once a larger size is asked for. Not copyable (the inline bytes would be copied).
#pragma once

#include <cstddef>
#include <vector>

namespace pcopy {

class GrowingBuffer {
 public:
  GrowingBuffer() = default;
  GrowingBuffer(const GrowingBuffer&) = delete;
  GrowingBuffer& operator=(const GrowingBuffer&) = delete;

  char* data() { return heap_.empty() ? inline_ : heap_.data(); }
  size_t size() const { return heap_.empty() ? sizeof inline_ : heap_.size(); }
  // Makes room for at least n bytes; the contents are not kept.
  void Reserve(size_t n) {
    if (n > size()) heap_.assign(n, 0);
  }

 private:
  char inline_[1024];
  std::vector<char> heap_;
};

}  // namespace pcopy
