// Reaping tombstones: causal GC (docs/anti-entropy.md, "Reaping
// tombstones"). A round takes one partition's tombstones from the segment
// index and removes those that every replica of their key is known to hold
// (or to have moved past), in two steps over PeerRpc (AaeReapRequest):
//
//  1. Check: each other primary is sent (key, the tombstone's clock) and
//     answers, per key, whether its own copy descends that clock and it
//     holds no hint for the key (hints the clock covers are obsolete and
//     dropped on the way, but still keep the key this round). Then every
//     other member of the ring, a possible stand-in, is asked the hint
//     half alone (hints_only); a member believed down stops the round
//     before anything is removed, since its hints cannot be asked.
//  2. Reap: keys every peer confirmed are removed here if still exactly the
//     tombstone read in step 1 (the replica's compare-and-delete, which
//     also raises this node's mint floor), then each peer is asked to
//     remove its copy on the same terms (equal leaf, still a tombstone).
//
// A peer that misses step 2 keeps its tombstone; exchanges copy it back
// and a later round reaps it everywhere: a tombstone, never a value. The
// serving side of both steps is ServeReap. Single-threaded, on the loop;
// destroying a round cancels its calls (its callback is not called).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "antientropy/trees.h"
#include "common/clock.h"
#include "common/liveness.h"
#include "replication/hint_store.h"
#include "replication/replica.h"
#include "ring/membership.h"
#include "rpc/peer_rpc.h"

namespace ringkv::aae {

// Keys per round, and so per AaeReapRequest; a peer refuses more.
inline constexpr size_t kMaxReapKeys = 512;

struct ReapEnv {
  PeerRpc* rpc;
  Trees* trees;
  Replica* replica;
  HintStore* hints;
  const Membership* membership;
  const Liveness* liveness;
  Clock* clock;
  Counter* reaped;  // this node's removals
};

struct ReapResult {
  Status status;
  uint64_t candidates = 0;
  uint64_t confirmed = 0;     // every replica holds it or a later state
  uint64_t reaped_here = 0;
  uint64_t reaped_peers = 0;  // removals the peers reported
  // Candidates kept, by the first reason found: a hint for the key on this
  // node; a primary whose copy has not seen all of the tombstone or that
  // holds a hint; a hint on another member (a stand-in); changed between
  // the check and the removal here.
  uint64_t kept_hint_here = 0;
  uint64_t kept_replica = 0;
  uint64_t kept_hint_elsewhere = 0;
  uint64_t kept_changed = 0;
  // Where the next round of this partition starts ("" = the first key).
  std::string next_cursor;
};

// Answers one AaeReapRequest on the node it arrived at (`partition` must be
// one it replicates; the caller checks).
AaeReapReply ServeReap(const ReapEnv& env, const AaeReapRequest& request);

class ReapRound {
 public:
  using Done = std::function<void(ReapResult)>;
  // `peers`: the partition's other primaries; every one must confirm.
  // `others`: every other member of the ring; each must hold no hint.
  ReapRound(ReapEnv env, uint32_t partition, std::vector<NodeId> peers,
            std::vector<NodeId> others, std::string cursor, int64_t step_timeout_us, Done done);
  ~ReapRound();
  ReapRound(const ReapRound&) = delete;
  ReapRound& operator=(const ReapRound&) = delete;

  void Start();
  uint32_t partition() const { return partition_; }

 private:
  // Asks node `i` of the check (peers_, then others_) or of the commit
  // (peers_ alone).
  void Ask(size_t i, bool commit);
  // Drops the candidates not held, counting them in `kept`.
  void Keep(uint64_t* kept);
  void RemoveHere();
  void Finish(Status status);

  ReapEnv env_;
  uint32_t partition_;
  std::vector<NodeId> peers_;
  std::vector<NodeId> others_;
  std::string cursor_;
  int64_t step_timeout_us_;
  Done done_;
  ReapResult result_;
  std::vector<AaeKeyEntry> entries_;
  std::vector<bool> held_;
  std::set<PeerRpc::CallId> calls_;
  bool finished_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ringkv::aae
