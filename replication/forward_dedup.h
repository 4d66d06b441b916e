// ForwardDedup: makes a forwarded put idempotent at its coordinator.
//
// The network may deliver a forwarded PutRequest twice. Coordinating it
// twice would mint two dots for one client write, which the client would
// then see as two siblings with the same value. This remembers, per
// (sender, request id), whether a forwarded put is in progress or what it
// answered, for `ttl_us`: a duplicate in progress is dropped (the one reply
// will come), a duplicate of a finished one gets the same reply again.
// Single-threaded, on the node's loop.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>

#include "common/transport.h"
#include "proto/messages.h"

namespace ringkv {

class ForwardDedup {
 public:
  explicit ForwardDedup(int64_t ttl_us) : ttl_us_(ttl_us) {}

  enum class Seen { kNew, kInProgress, kDone };
  // Records the request as started if it is new. When kDone, `*reply` is
  // the answer it got.
  Seen Begin(const NodeId& from, uint64_t request_id, int64_t now_us, PutReply* reply);
  void Finish(const NodeId& from, uint64_t request_id, const PutReply& reply);
  size_t size() const { return entries_.size(); }

 private:
  using Key = std::pair<NodeId, uint64_t>;
  void Expire(int64_t now_us);

  int64_t ttl_us_;
  std::map<Key, std::optional<PutReply>> entries_;
  std::deque<std::pair<int64_t, Key>> order_;  // insertion time, oldest first
};

}  // namespace ringkv
