#include "replication/forward_dedup.h"

#include <cstring>
#include <string_view>

#include "common/hash.h"

namespace ringkv {

uint64_t ForwardDedup::Fingerprint(const PutRequest& put) {
  // Streamed, not concatenated: the value may be megabytes.
  char flags[33];
  flags[0] = put.tombstone ? 1 : 0;
  std::memcpy(flags + 1, &put.w, sizeof(put.w));
  std::memcpy(flags + 5, &put.pw, sizeof(put.pw));
  std::memcpy(flags + 9, &put.timestamp_us, sizeof(put.timestamp_us));
  std::memcpy(flags + 17, &put.write_id.hi, sizeof(put.write_id.hi));
  std::memcpy(flags + 25, &put.write_id.lo, sizeof(put.write_id.lo));
  return HashParts({put.bucket, put.key, put.value, put.context,
                    std::string_view(flags, sizeof(flags))});
}

ForwardDedup::Seen ForwardDedup::Begin(const NodeId& from, uint64_t request_id,
                                       uint64_t fingerprint, int64_t now_us,
                                       int64_t forget_at_us, PutReply* reply) {
  Expire(now_us);
  Key key{from, request_id, fingerprint};
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    entries_.emplace(key, std::nullopt);
    order_.emplace_back(forget_at_us, std::move(key));
    return Seen::kNew;
  }
  if (!it->second.has_value()) return Seen::kInProgress;
  *reply = *it->second;
  return Seen::kDone;
}

void ForwardDedup::Finish(const NodeId& from, uint64_t request_id, uint64_t fingerprint,
                          const PutReply& reply) {
  auto it = entries_.find(Key{from, request_id, fingerprint});
  if (it != entries_.end()) it->second = reply;
}

void ForwardDedup::Expire(int64_t now_us) {
  while (!order_.empty() && order_.front().first < now_us) {
    entries_.erase(order_.front().second);
    order_.pop_front();
  }
}

}  // namespace ringkv
