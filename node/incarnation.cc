#include "node/incarnation.h"

#include <random>

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

}  // namespace ringkv
