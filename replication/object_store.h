// ObjectStore: a node's objects on its Storage, as object records keyed by
// partition (storage/keys.h, storage/record.h; docs/storage-format.md).
//
// Each Put is one atomic WriteBatch. Not thread-safe: owned by the node's
// loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "causality/object.h"
#include "common/status.h"
#include "storage/storage.h"

namespace ringkv {

class ObjectStore {
 public:
  // `storage` must outlive this. With `sync`, every Put is fsync'd.
  ObjectStore(Storage* storage, bool sync) : storage_(storage), sync_(sync) {}

  // The stored object, or nullopt when the key has none. Corruption when
  // the record fails its checksum or does not decode.
  Result<std::optional<Object>> Get(uint32_t partition, std::string_view bucket,
                                    std::string_view key);
  Status Put(uint32_t partition, std::string_view bucket, std::string_view key,
             const Object& object);

 private:
  Storage* storage_;
  bool sync_;
};

}  // namespace ringkv
