#include "node/incarnation.h"

#include <algorithm>
#include <random>
#include <string>

#include "storage/keys.h"
#include "storage/meta.h"

namespace ringkv {

Result<uint64_t> LoadOrCreateIncarnation(Storage* storage) {
  // Not the protocol's seeded Random: two nodes (or two lives of one) must
  // never draw the same value, which a reproducible seed would invite.
  std::random_device device;
  uint64_t fresh = 0;
  for (int i = 0; i < 16 && fresh == 0; ++i) {
    fresh = (static_cast<uint64_t>(device()) << 32) ^ device();
  }
  if (fresh == 0) fresh = 1;
  return InitMeta(storage, fresh);
}

Result<uint64_t> NextGeneration(Storage* storage, uint64_t now_seconds) {
  const std::string key = MetaKey(kMetaGeneration);
  std::string stored;
  uint64_t previous = 0;
  Status st = storage->Get(key, &stored);
  if (st.ok()) {
    if (stored.size() != sizeof(previous)) {
      return Status::Corruption("meta generation is " + std::to_string(stored.size()) +
                                " bytes, expected 8");
    }
    for (int i = 7; i >= 0; --i) previous = (previous << 8) | static_cast<uint8_t>(stored[i]);
  } else if (!st.IsNotFound()) {
    return st;
  }
  uint64_t next = std::max(previous + 1, now_seconds);
  WriteBatch batch;
  std::string value(8, '\0');
  for (int i = 0; i < 8; ++i) value[i] = static_cast<char>(next >> (8 * i));
  batch.Put(key, value);
  RINGKV_RETURN_IF_ERROR(storage->Write(batch, /*sync=*/true));
  return next;
}

}  // namespace ringkv
