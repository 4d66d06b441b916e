// Exchange: one anti-entropy exchange of one partition's trees between this
// node (the initiator) and one peer replica (docs/anti-entropy.md, "The
// exchange"). Steps, each a PeerRpc call:
//
//  1. Root: send our top hash. Equal: done, the replicas agree. Otherwise
//     the peer sends its 256 branch hashes; the branches that differ are
//     noted. After a pause the step is repeated and only branches that
//     differed both times go on: a write still in flight to one replica
//     differs once, not twice.
//  2. Branches: the peer's segment hashes of those branches, twice, the
//     same way.
//  3. Keys: the peer's objects (key, leaf, clock) of those segments, at
//     most `max_segments` per request (the next batch follows the repairs
//     of this one), compared with ours; a key whose leaf differs, or that
//     one side lacks, is repaired.
//  4. Repair, key by key, paced by the token buckets: the peer's object is
//     fetched (ReplicaGetRequest) and merged here through Replica::Merge
//     (the causal sync, no new dot); if the peer then lacks anything of the
//     merge, it is sent back (ReplicaPutRequest), as read repair does.
//     Tombstones are objects like any other.
//
// Our tree must stay trusted throughout; if it stops being (a rebuild
// started) the exchange ends with an error. Single-threaded, on the loop;
// destroying it cancels its calls and timers (its callback is not called).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "antientropy/token_bucket.h"
#include "antientropy/trees.h"
#include "common/clock.h"
#include "common/scheduler.h"
#include "replication/replica.h"
#include "ring/membership.h"
#include "rpc/peer_rpc.h"

namespace ringkv::aae {

struct ExchangeLimits {
  int64_t confirm_pause_us = 500'000;
  int64_t step_timeout_us = 10'000'000;
  uint32_t max_segments = 128;
};

struct ExchangeResult {
  Status status;
  uint64_t segments_differing = 0;
  uint64_t keys_differing = 0;
  uint64_t keys_repaired = 0;
  uint64_t repair_failures = 0;
  // Frames of this exchange, both directions, as encoded here.
  uint64_t bytes = 0;
  uint64_t bytes_tree = 0;
  uint64_t bytes_keys = 0;
  uint64_t bytes_repair = 0;
  // The exchange ran to the end with every repair done: each key of the
  // partition was the same on both replicas at some moment during it.
  bool clean() const { return status.ok() && repair_failures == 0; }
};

struct ExchangeEnv {
  PeerRpc* rpc;
  Trees* trees;
  Replica* replica;
  const Membership* membership;
  Clock* clock;
  Scheduler* scheduler;
  TokenBucket* objects;
  TokenBucket* bytes;
};

class Exchange {
 public:
  using Done = std::function<void(ExchangeResult)>;
  Exchange(ExchangeEnv env, ExchangeLimits limits, uint32_t partition, NodeId peer, Done done);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  void Start();
  uint32_t partition() const { return partition_; }
  const NodeId& peer() const { return peer_; }

  // The frame size of `body` sent by this node, as PeerRpc encodes it.
  static size_t FrameBytes(const NodeId& self, const MessageBody& body);

 private:
  enum class Stage { kTree, kKeys, kRepair };
  void RootStep(int round);
  void BranchStep(int round);
  void KeysStep();
  void RepairNext();
  void Repair(const std::string& bucket, const std::string& key, bool peer_has);
  void Push(const std::string& bucket, const std::string& key, Object object, bool changed);
  void KeyDone(bool repaired, bool failed);
  // Calls the peer; `on_reply` gets the body of a typed reply.
  void Call(Stage stage, MessageBody body, std::function<void(Result<MessageBody>)> on_reply);
  void After(int64_t delay_us, std::function<void()> fn);
  void Finish(Status status);
  const HashTree* Tree();

  ExchangeEnv env_;
  ExchangeLimits limits_;
  uint32_t partition_;
  NodeId peer_;
  Done done_;
  ExchangeResult result_;
  std::set<uint32_t> branches_;  // differing in every round so far
  std::set<uint32_t> segments_;
  // Keys to repair: (bucket, key) -> whether the peer holds it.
  std::vector<std::pair<std::pair<std::string, std::string>, bool>> repairs_;
  size_t next_repair_ = 0;
  // Repair bytes already charged to the byte bucket.
  uint64_t charged_bytes_ = 0;
  std::set<PeerRpc::CallId> calls_;
  TimerId timer_ = 0;
  bool finished_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ringkv::aae
