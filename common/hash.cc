#include "common/hash.h"

// XXH3_state_t is only complete with static linking declarations.
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include <cstring>
#include <string>

namespace ringkv {

uint64_t Hash64(std::string_view data) { return XXH3_64bits(data.data(), data.size()); }

uint64_t KeyHash(std::string_view bucket, std::string_view key) {
  // The length prefix keeps ("ab","c") and ("a","bc") apart.
  uint8_t prefix[5];
  size_t n = 0;
  uint32_t len = static_cast<uint32_t>(bucket.size());
  while (len >= 0x80) {
    prefix[n++] = static_cast<uint8_t>(len | 0x80);
    len >>= 7;
  }
  prefix[n++] = static_cast<uint8_t>(len);
  // Most names fit a small buffer, hashed in one call (a few hundred
  // instructions less than the streaming state); same hash either way.
  char buf[256];
  if (n + bucket.size() + key.size() <= sizeof(buf)) {
    std::memcpy(buf, prefix, n);
    std::memcpy(buf + n, bucket.data(), bucket.size());
    std::memcpy(buf + n + bucket.size(), key.data(), key.size());
    return XXH3_64bits(buf, n + bucket.size() + key.size());
  }
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, prefix, n);
  XXH3_64bits_update(&state, bucket.data(), bucket.size());
  XXH3_64bits_update(&state, key.data(), key.size());
  return XXH3_64bits_digest(&state);
}

uint64_t HashParts(std::initializer_list<std::string_view> parts) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  for (std::string_view part : parts) {
    const uint64_t len = part.size();
    XXH3_64bits_update(&state, &len, sizeof(len));
    XXH3_64bits_update(&state, part.data(), part.size());
  }
  return XXH3_64bits_digest(&state);
}

}  // namespace ringkv
