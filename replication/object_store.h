// ObjectStore: a node's objects on its Storage, as object records keyed by
// partition (storage/keys.h, storage/record.h; docs/storage-format.md).
//
// Each Put is one atomic WriteBatch, holding the object's record and what
// the write observer adds to it. Not thread-safe: owned by the node's
// loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "causality/object.h"
#include "common/status.h"
#include "replication/object_write_observer.h"
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
  // `read` is what this store's Get of the key returned just before (null:
  // nothing, or not known). When that Get was the last one and nothing was
  // written since, the observer learns what the write replaces from it
  // instead of reading its own state for the key.
  Status Put(uint32_t partition, std::string_view bucket, std::string_view key,
             const Object& object, const Object* read = nullptr);

  // Removes the key's object if it is still exactly `expected` (a reaped
  // tombstone, docs/anti-entropy.md), and in the same batch raises the mint
  // floor to `expected`'s counter for `self`. Returns whether it removed.
  Result<bool> Reap(uint32_t partition, std::string_view bucket, std::string_view key,
                    const Object& expected, const Actor& self);
  // Every counter this node's actor minted for a key it has since reaped is
  // at most this (0 before any reap); every dot it mints must be above it.
  // Read from storage once, then kept.
  Result<uint64_t> MintFloor();

  // Every later Put stages its batch through `observer` (null: none); it
  // must outlive the store or be reset first.
  void set_observer(ObjectWriteObserver* observer) { observer_ = observer; }

 private:
  Storage* storage_;
  bool sync_;
  ObjectWriteObserver* observer_ = nullptr;
  std::optional<uint64_t> mint_floor_;
  // The last Get: its storage key, whether it found a record, and that
  // record's checksum. Cleared by every write.
  struct LastRead {
    std::string skey;
    bool found = false;
    uint64_t checksum = 0;
  };
  std::optional<LastRead> last_read_;
};

}  // namespace ringkv
