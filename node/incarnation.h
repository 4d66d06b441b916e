// The incarnation of a node's data directory: a random 64-bit id drawn when
// the directory is new and kept in its metadata, so that a node that lost
// its data comes back as a new actor and never reuses a dot (kv679; see
// causality/object.h Actor). Stateless; the Storage's thread rule applies.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "storage/storage.h"

namespace ringkv {

// Returns the stored incarnation, or draws a fresh non-zero one from
// std::random_device and stores it with a synced write (storage/meta.h).
Result<uint64_t> LoadOrCreateIncarnation(Storage* storage);

// The gossip generation of this start (ring/gossip.h): peers ignore
// heartbeats from a generation lower than one they saw, so it must grow at
// every restart even if the wall clock was stepped back. Returns
// max(stored + 1, now_seconds) and stores it with a synced write.
Result<uint64_t> NextGeneration(Storage* storage, uint64_t now_seconds);

}  // namespace ringkv
