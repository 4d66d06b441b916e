// Format migration: brings a data directory written with storage format 1
// to the current layout (docs/storage-format.md, "Format 2 and the
// migration from 1"), when a node opens it, before anything else reads it.
//
// Format 1 keyed objects 'o' partition varint32(len(bucket)) bucket key and
// kept a separate anti-entropy index row per object ('a' 'i' ...); format 2
// puts the key's segment into the object key ('o' partition segment ...)
// and has no index. Both layouts share the 'o' and 'h' ranges, where a key
// of one cannot be told from a key of the other, so the migration never
// mixes them in one range. It runs in two phases, in bounded batches, each
// batch atomic, the phase kept in meta 'm' "migration":
//   1. Every format-1 object and hint key k is moved to the aside key
//      'l' k, and the index rows and the index-gap flag are deleted.
//   2. Every 'l' key is moved to its format-2 key; then format_version 2 is
//      written and the phase key deleted, in one synced batch.
// During phase 1 the 'o' and 'h' ranges hold format-1 keys only, during
// phase 2 format-2 keys only, and 'l' format-1 keys only, so a restart at
// any point (a crash between two batches) simply goes on with its phase
// from the start of the range. An aside key that does not parse as a
// format-1 key (damage the old layout could not read either) is left
// under 'l' and counted in the log, never dropped.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "common/status.h"
#include "storage/storage.h"

namespace ringkv {

struct FormatMigrationOptions {
  // Keys moved per batch (each batch is one atomic WriteBatch).
  size_t batch_keys = 1000;
  // Lines for the operator's log: phases, and progress every
  // `progress_every` keys.
  std::function<void(const std::string&)> info;
  size_t progress_every = 100'000;
};

// Migrates `storage` when its meta format_version is 1 (goes on with an
// interrupted migration); does nothing for a new directory or one of the
// current version. Errors: the storage's (then nothing is lost, and the
// next call goes on where this one stopped).
Status MigrateStorageFormat(Storage* storage, const FormatMigrationOptions& options);

}  // namespace ringkv
