// Meta: the node metadata kept in the storage's meta range (the data
// directory's format version and incarnation); see docs/storage-format.md.
// Stateless functions over a Storage; the Storage's thread rule applies.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "storage/storage.h"

namespace ringkv {

// DO NOT CHANGE: the layout version this code writes and reads.
inline constexpr uint32_t kStorageFormatVersion = 2;

// Opens the metadata of a data directory. A new directory (no meta keys) is
// stamped, with a synced write, with kStorageFormatVersion and incarnation
// `fresh_incarnation` (the caller draws it from its Random), which is then
// returned; an existing one returns its stored incarnation. InvalidArgument
// for any other format version (a format-1 directory is migrated first,
// storage/format_migration.h); Corruption for malformed or half-written
// metadata.
Result<uint64_t> InitMeta(Storage* storage, uint64_t fresh_incarnation);

}  // namespace ringkv
