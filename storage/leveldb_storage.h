// LevelDbStorage: the production Storage, one LevelDB database per node.
//
// Keys use LevelDB's default bytewise comparator, which is the memcmp order
// storage.h promises. LevelDB statuses become ringkv ones: NotFound stays
// NotFound, Corruption stays Corruption, anything else is IOError. Not
// thread-safe, like every Storage (LevelDB itself would be; we do not rely
// on it).
//
// Snapshots are LevelDB's own (a sequence number): taking one is O(1), but
// while it lives compactions keep every value it can see, so a long-held
// snapshot of a busy database holds back disk space. Iterators read without
// filling the block cache, since they serve bulk work.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "storage/storage.h"

namespace ringkv {

struct LevelDbOptions {
  bool create_if_missing = true;
  // Fail Open when the database already exists (fresh data directories).
  bool error_if_exists = false;
  // Sync every Write even when its caller did not ask for it.
  bool sync = false;
  // Verify checksums on every read and stop early on internal inconsistency.
  bool paranoid_checks = false;
  size_t block_cache_bytes = 64 << 20;
  size_t write_buffer_bytes = 16 << 20;
  // Snappy-compress table blocks: smaller files for compressible values, at
  // the cost of compressing every block a flush or compaction writes and
  // decompressing every block read outside the block cache.
  bool compression = true;
  // Bloom filter per table; 0 = none.
  int bloom_bits_per_key = 10;
};

class LevelDbStorage {
 public:
  // Opens (creating, if allowed) the database in directory `path`.
  // IOError/Corruption/InvalidArgument from LevelDB come back as Status.
  static Result<std::unique_ptr<Storage>> Open(const std::string& path,
                                               const LevelDbOptions& options = {});
};

}  // namespace ringkv
