// wire.h: the byte encoding of pcopy's messages between its own processes: a tree copy's tasks
// and answers (exec/tree_task.h), pcopy-mpi's messages between ranks. Values are copied in this
// machine's byte order: both ends are the same binary on the same architecture (an MPI job's
// ranks run one build). Strings are length-prefixed, so they may hold any byte.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace pcopy {

class WireWriter {
 public:
  template <typename T>
  void Put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    const char* p = reinterpret_cast<const char*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof value);
  }
  void PutString(const std::string& s) {
    Put(static_cast<uint32_t>(s.size()));
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void PutBytes(const std::vector<char>& b) {
    Put(static_cast<uint32_t>(b.size()));
    bytes_.insert(bytes_.end(), b.begin(), b.end());
  }
  std::vector<char> Take() { return std::move(bytes_); }

 private:
  std::vector<char> bytes_;
};

// Reads what a WireWriter wrote; every Get is false once the bytes run out.
class WireReader {
 public:
  explicit WireReader(const std::vector<char>& bytes) : bytes_(bytes) {}
  template <typename T>
  bool Get(T* value) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (bytes_.size() - pos_ < sizeof(T)) return false;
    memcpy(value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetString(std::string* s) {
    uint32_t n = 0;
    if (!Get(&n) || bytes_.size() - pos_ < n) return false;
    s->assign(bytes_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool GetBytes(std::vector<char>* b) {
    uint32_t n = 0;
    if (!Get(&n) || bytes_.size() - pos_ < n) return false;
    b->assign(bytes_.data() + pos_, bytes_.data() + pos_ + n);
    pos_ += n;
    return true;
  }
  bool AtEnd() const { return pos_ == bytes_.size(); }

 private:
  const std::vector<char>& bytes_;
  size_t pos_ = 0;
};

}  // namespace pcopy
