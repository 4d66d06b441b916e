// ObjectWriteObserver: a hook on every object write of a node, for state
// that must stay exactly in step with the objects (the anti-entropy trees,
// docs/anti-entropy.md). The replication layer knows only this
// interface; node/ hands the ObjectStore an implementation.
//
// For each write (or removal), Stage (StageRemove) tells the observer what
// the object's batch will change, before the batch is written; Finish then
// says whether it was written, so in-memory state changes exactly once per
// committed write. A group commit stages several writes, one after
// another, into one batch: then one Finish reports on every Stage since the
// last Finish. All on the node's loop.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace ringkv {

// What a write replaces, when the store knows it: the object its last read
// of the key found, with nothing written to the key since.
struct ReplacedObject {
  bool found = false;       // false: the key held no object
  uint64_t body_digest = 0;  // XXH3-64 of its canonical encoding
};

class ObjectWriteObserver {
 public:
  virtual ~ObjectWriteObserver() = default;
  // `segment` is the key's (storage/keys.h KeySegment, already in its
  // object key). `body_digest` is XXH3-64 of the written object's canonical
  // encoding, the checksum of its record (storage/record.h). `replaced` is
  // what the key held, or null when the store does not know it (the
  // observer then reads the key's stored object). An error aborts the
  // write (Finish is not called).
  virtual Status Stage(uint32_t partition, uint32_t segment, std::string_view bucket,
                       std::string_view key, uint64_t body_digest,
                       const ReplacedObject* replaced) = 0;
  // The key's object, `removed`, is deleted (a reaped tombstone). An error
  // aborts the removal.
  virtual Status StageRemove(uint32_t partition, uint32_t segment, std::string_view bucket,
                             std::string_view key, const ReplacedObject& removed) = 0;
  // After Storage::Write of the staged batch returned: the outcome of
  // every write staged since the last Finish.
  virtual void Finish(bool committed) = 0;
};

}  // namespace ringkv
