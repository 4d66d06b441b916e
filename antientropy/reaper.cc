#include "antientropy/reaper.h"

#include <utility>

#include "antientropy/hashing.h"
#include "causality/object_codec.h"
#include "common/hash.h"

namespace ringkv::aae {
namespace {

bool InPartition(const ReapEnv& env, uint32_t partition, const AaeKeyEntry& e) {
  const Ring& ring = env.membership->ring();
  return ring.PartitionOf(KeyHash(e.bucket, e.key)) == partition &&
         KeySegment(e.bucket, e.key) == e.segment;
}

// Step 1 on a replica: its copy has seen everything the tombstone has, and
// no hint it holds for the key could bring back something the tombstone
// does not cover.
Result<bool> Holds(const ReapEnv& env, uint32_t partition, const AaeKeyEntry& e) {
  Result<std::optional<Object>> local = env.replica->Read(partition, e.bucket, e.key);
  if (!local.ok()) return local.status();
  if (!local->has_value() || !(*local)->context.Descends(e.clock)) return false;
  return env.hints->DropCovered(partition, e.bucket, e.key, e.clock);
}

// Step 2 on a replica (the initiator included): removes the key if it still
// holds exactly the tombstone whose leaf was confirmed.
Result<bool> ReapIfUnchanged(const ReapEnv& env, uint32_t partition, const AaeKeyEntry& e) {
  Result<std::optional<Object>> local = env.replica->Read(partition, e.bucket, e.key);
  if (!local.ok()) return local.status();
  if (!local->has_value()) return false;
  const Object& object = **local;
  if (!object.IsDeleted() ||
      LeafOf(e.bucket, e.key, EncodeObject(object)) != e.leaf) {
    return false;
  }
  Result<bool> clear = env.hints->DropCovered(partition, e.bucket, e.key, object.context);
  if (!clear.ok() || !*clear) return clear;
  Result<bool> reaped = env.replica->Reap(partition, e.bucket, e.key, object);
  if (reaped.ok() && *reaped) env.reaped->Increment();
  return reaped;
}

}  // namespace

AaeReapReply ServeReap(const ReapEnv& env, const AaeReapRequest& request) {
  AaeReapReply reply;
  if (request.keys.size() > kMaxReapKeys) {
    reply.status = Status::InvalidArgument("more than " + std::to_string(kMaxReapKeys) +
                                           " keys in one reap request");
    return reply;
  }
  if (request.hints_only && request.commit) {
    reply.status = Status::InvalidArgument("a hints-only reap request cannot commit");
    return reply;
  }
  reply.held.reserve(request.keys.size());
  for (const AaeKeyEntry& e : request.keys) {
    if (!InPartition(env, request.partition, e)) {
      reply.held.push_back(false);
      continue;
    }
    Result<bool> r =
        request.hints_only
            ? env.hints->DropCovered(request.partition, e.bucket, e.key, e.clock)
            : (request.commit ? ReapIfUnchanged(env, request.partition, e)
                              : Holds(env, request.partition, e));
    reply.held.push_back(r.ok() && *r);
  }
  return reply;
}

ReapRound::ReapRound(ReapEnv env, uint32_t partition, std::vector<NodeId> peers,
                     std::vector<NodeId> others, std::string cursor, int64_t step_timeout_us,
                     Done done)
    : env_(env), partition_(partition), peers_(std::move(peers)), others_(std::move(others)),
      cursor_(std::move(cursor)), step_timeout_us_(step_timeout_us), done_(std::move(done)) {}

ReapRound::~ReapRound() {
  *alive_ = false;
  for (PeerRpc::CallId id : calls_) env_.rpc->Cancel(id);
}

void ReapRound::Start() {
  Status st = env_.trees->ReadTombstones(partition_, cursor_, kMaxReapKeys, &entries_,
                                         &result_.next_cursor);
  if (!st.ok()) return Finish(st);
  result_.candidates = entries_.size();
  // This node's own hints count like a peer's.
  held_.assign(entries_.size(), false);
  for (size_t i = 0; i < entries_.size(); ++i) {
    Result<bool> clear =
        env_.hints->DropCovered(partition_, entries_[i].bucket, entries_[i].key,
                                entries_[i].clock);
    held_[i] = clear.ok() && *clear;
  }
  Keep(&result_.kept_hint_here);
  if (entries_.empty()) return Finish(Status::OK());
  // A member that cannot be asked may hold a hint of a write the tombstone
  // deleted, which it would deliver after the reap.
  for (const std::vector<NodeId>* nodes : {&peers_, &others_}) {
    for (const NodeId& n : *nodes) {
      if (!env_.liveness->IsUp(n)) {
        return Finish(Status::Unavailable(
            n + " is believed down: no tombstone is reaped while a member is unreachable"));
      }
    }
  }
  Ask(0, /*commit=*/false);
}

void ReapRound::Keep(uint64_t* kept) {
  std::vector<AaeKeyEntry> still;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (held_[i]) still.push_back(std::move(entries_[i]));
  }
  *kept += entries_.size() - still.size();
  entries_ = std::move(still);
  held_.assign(entries_.size(), true);
}

void ReapRound::RemoveHere() {
  result_.confirmed = entries_.size();
  for (const AaeKeyEntry& e : entries_) {
    Result<bool> r = ReapIfUnchanged(env_, partition_, e);
    if (r.ok() && *r) {
      ++result_.reaped_here;
    } else {
      ++result_.kept_changed;
    }
  }
}

void ReapRound::Ask(size_t i, bool commit) {
  const size_t asked = commit ? peers_.size() : peers_.size() + others_.size();
  if (!commit && entries_.empty()) return Finish(Status::OK());
  if (i == asked) {
    if (commit) return Finish(Status::OK());
    // Every replica holds each of these tombstones or a later state and no
    // member holds a hint for them: this node removes its copy first, then
    // tells the peers.
    RemoveHere();
    return Ask(0, /*commit=*/true);
  }
  const bool hints_only = i >= peers_.size();
  const NodeId& node = hints_only ? others_[i - peers_.size()] : peers_[i];
  AaeReapRequest request{partition_, commit, entries_, hints_only};
  auto id = std::make_shared<PeerRpc::CallId>(0);
  *id = env_.rpc->Call(
      node, std::move(request), env_.clock->MonoMicros() + step_timeout_us_,
      [this, alive = alive_, id, i, commit, hints_only](Result<MessageBody> r) {
        if (!*alive) return;
        calls_.erase(*id);
        auto* reply = r.ok() ? std::get_if<AaeReapReply>(&*r) : nullptr;
        if (reply == nullptr) {
          return Finish(r.ok() ? Status::Corruption("unexpected reply to aaeReap") : r.status());
        }
        if (!reply->status.ok()) return Finish(reply->status);
        if (reply->held.size() != entries_.size()) {
          return Finish(Status::Corruption("aaeReapReply of the wrong size"));
        }
        for (size_t k = 0; k < entries_.size(); ++k) {
          if (commit) {
            result_.reaped_peers += reply->held[k] ? 1 : 0;
          } else {
            held_[k] = reply->held[k];
          }
        }
        if (!commit) Keep(hints_only ? &result_.kept_hint_elsewhere : &result_.kept_replica);
        Ask(i + 1, commit);
      });
  calls_.insert(*id);
}

void ReapRound::Finish(Status status) {
  if (finished_) return;
  finished_ = true;
  result_.status = std::move(status);
  Done done = std::move(done_);
  ReapResult result = result_;
  done(std::move(result));
}

}  // namespace ringkv::aae
