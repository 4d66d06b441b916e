// The incarnation of a node's data directory: a random 64-bit id drawn when
// the directory is new and kept in its metadata, so that a node that lost
// its data comes back as a new actor and never reuses a dot (kv679; see
// replication/object.h Actor). Stateless; the Storage's thread rule applies.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "storage/storage.h"

namespace ringkv {

// Returns the stored incarnation, or draws a fresh non-zero one from
// std::random_device and stores it with a synced write (storage/meta.h).
Result<uint64_t> LoadOrCreateIncarnation(Storage* storage);

}  // namespace ringkv
