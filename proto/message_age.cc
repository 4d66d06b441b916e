#include "proto/message_age.h"

#include <algorithm>

namespace ringkv {

int64_t MessageAge::Observe(const NodeId& from, uint64_t generation, int64_t sent_mono_us,
                            int64_t now_us) {
  const int64_t sample = now_us - sent_mono_us;
  auto [it, fresh] = peers_.try_emplace(from);
  Peer& p = it->second;
  if (fresh || generation > p.generation) {
    p = Peer{generation, sample, now_us};
    return 0;
  }
  // The offset may have drifted upwards since it was last set; allow that
  // much before calling the excess age.
  const int64_t allowed = p.offset_us + (now_us - p.updated_us) * drift_ppm_ / 1'000'000;
  if (sample <= allowed) {
    p.offset_us = sample;
    p.updated_us = now_us;
    return 0;
  }
  return sample - allowed;
}

}  // namespace ringkv
