#include "exec/tree_config.h"

#include "base/wire.h"

namespace pcopy {

std::vector<char> EncodeTreeConfig(const TreeWorkerConfig& c) {
  WireWriter w;
  w.Put(c.method);
  w.Put(c.buffer_size);
  w.Put(c.tuning);
  w.Put(c.max_write_size);
  w.Put(c.preserve);
  w.Put(c.follow_links);
  w.Put(c.no_clobber);
  w.Put(c.update);
  w.Put(c.fsync);
  w.Put(c.bwlimit);
  w.Put(c.sparse);
  w.Put(c.clone);
  w.Put(c.clone_required);
  w.Put(c.resume);
  w.Put(c.compare_dev);
  return w.Take();
}

bool DecodeTreeConfig(const std::vector<char>& bytes, TreeWorkerConfig* c) {
  WireReader r(bytes);
  if (!r.Get(&c->method) || !r.Get(&c->buffer_size) || !r.Get(&c->tuning) ||
      !r.Get(&c->max_write_size) || !r.Get(&c->preserve) || !r.Get(&c->follow_links) ||
      !r.Get(&c->no_clobber) || !r.Get(&c->update) || !r.Get(&c->fsync) || !r.Get(&c->bwlimit) ||
      !r.Get(&c->sparse) || !r.Get(&c->clone) || !r.Get(&c->clone_required) || !r.Get(&c->resume) ||
      !r.Get(&c->compare_dev) || !r.AtEnd()) {
    return false;
  }
  c->sys = &RealSysCalls();
  c->env = CurrentMetadataEnv();
  return true;
}

}  // namespace pcopy
