#include "replication/forward_dedup.h"

namespace ringkv {

ForwardDedup::Seen ForwardDedup::Begin(const NodeId& from, uint64_t request_id, int64_t now_us,
                                       PutReply* reply) {
  Expire(now_us);
  Key key{from, request_id};
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    entries_.emplace(key, std::nullopt);
    order_.emplace_back(now_us, std::move(key));
    return Seen::kNew;
  }
  if (!it->second.has_value()) return Seen::kInProgress;
  *reply = *it->second;
  return Seen::kDone;
}

void ForwardDedup::Finish(const NodeId& from, uint64_t request_id, const PutReply& reply) {
  auto it = entries_.find(Key{from, request_id});
  if (it != entries_.end()) it->second = reply;
}

void ForwardDedup::Expire(int64_t now_us) {
  while (!order_.empty() && now_us - order_.front().first > ttl_us_) {
    entries_.erase(order_.front().second);
    order_.pop_front();
  }
}

}  // namespace ringkv
