#include "mpi/copy_setup.h"

#include "app/outcome.h"
#include "base/wire.h"

namespace pcopy {

std::string EncodeSetup(const CopySetup& s) {
  WireWriter w;
  w.PutString(s.error);
  w.Put(static_cast<int32_t>(s.exit_code));
  w.PutString(s.temp);
  w.PutString(s.display);
  w.PutString(s.machine);
  w.Put(s.size);
  w.Put(s.mtime_sec);
  w.Put(s.mtime_nsec);
  w.Put(s.kept);
  w.Put(s.resumable);
  w.Put(static_cast<uint64_t>(s.left.size()));
  for (const ByteRange& r : s.left) {
    w.Put(r.offset);
    w.Put(r.length);
  }
  w.Put(s.before);
  const std::vector<char> bytes = w.Take();
  return std::string(bytes.begin(), bytes.end());
}

CopySetup DecodeSetup(const std::string& in) {
  CopySetup s;
  const std::vector<char> bytes(in.begin(), in.end());
  WireReader r(bytes);
  int32_t code = 0;
  uint64_t ranges = 0;
  bool ok = r.GetString(&s.error) && r.Get(&code) && r.GetString(&s.temp) &&
            r.GetString(&s.display) && r.GetString(&s.machine) && r.Get(&s.size) &&
            r.Get(&s.mtime_sec) && r.Get(&s.mtime_nsec) && r.Get(&s.kept) && r.Get(&s.resumable) &&
            r.Get(&ranges) && ranges <= bytes.size() / (2 * sizeof(uint64_t));
  for (uint64_t i = 0; ok && i < ranges; ++i) {
    ByteRange range;
    ok = r.Get(&range.offset) && r.Get(&range.length);
    s.left.push_back(range);
  }
  if (!ok || !r.Get(&s.before) || !r.AtEnd()) {
    s = CopySetup();
    s.error = "the job's setup message is damaged";
    s.exit_code = kExitFailure;
    return s;
  }
  s.exit_code = code;
  return s;
}

}  // namespace pcopy
