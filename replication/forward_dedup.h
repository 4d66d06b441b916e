// ForwardDedup: makes a forwarded put idempotent at its coordinator.
//
// The network may deliver a forwarded PutRequest twice. Coordinating it
// twice would mint two dots for one client write, which the client would
// then see as two siblings with the same value. This remembers, per
// (sender, request id, fingerprint of the request), whether a forwarded put
// is in progress or what it answered, until the forwarder's deadline for it
// has passed (a later duplicate could only answer a forgotten request): a
// duplicate in progress is dropped (the one reply will come), a duplicate of
// a finished one gets the same reply again. Memory is thus bounded by the
// forwarded puts of one deadline's span.
//
// The fingerprint matters: a sender that restarts counts its request ids
// from scratch, and a reused id must not be answered with the reply of a
// different put (the simulator caught exactly that: an acknowledged write
// that was never applied). Two puts with equal ids and equal contents are
// the same write, so answering the second with the first's reply is right.
// Single-threaded, on the node's loop.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "common/transport.h"
#include "proto/messages.h"

namespace ringkv {

class ForwardDedup {
 public:
  enum class Seen { kNew, kInProgress, kDone };
  // Records the request as started if it is new, to be remembered until
  // `forget_at_us`. When kDone, `*reply` is the answer it got.
  Seen Begin(const NodeId& from, uint64_t request_id, uint64_t fingerprint, int64_t now_us,
             int64_t forget_at_us, PutReply* reply);
  void Finish(const NodeId& from, uint64_t request_id, uint64_t fingerprint,
              const PutReply& reply);

  // A hash of everything that makes a put a distinct write.
  static uint64_t Fingerprint(const PutRequest& put);
  size_t size() const { return entries_.size(); }

 private:
  using Key = std::tuple<NodeId, uint64_t, uint64_t>;
  void Expire(int64_t now_us);

  std::map<Key, std::optional<PutReply>> entries_;
  // (forget_at, key) in insertion order. Deadlines differ per request, so an
  // entry may outlive its time by at most the longest deadline before it.
  std::deque<std::pair<int64_t, Key>> order_;
};

}  // namespace ringkv
