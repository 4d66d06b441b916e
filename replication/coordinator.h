// Coordinator: runs gets and puts against a key's preference list.
//
// A get asks every primary, answers once R of them (PR primaries) replied,
// keeps listening until all replied or the deadline passed, then sends the
// merged object to every replica that answered with less (read repair).
// A put is coordinated by a primary, which mints the dot (Replica::
// Coordinate), stores it locally and sends the new object to the other
// primaries, answering after W acknowledgements (PW primaries); a node that
// is not a primary forwards the put to one. Conditional puts are
// coordinated by the key's owner, its first primary believed up
// (docs/limits.md "Siblings"): a primary that is not the owner hands them
// to it, and coordinates them itself only when no other primary answers in
// time.
//
// Sloppy quorum: a primary believed down, or silent for half the deadline,
// is replaced by the next fallback of the preference list, which keeps the
// write as a hint for it; the fallback's ack counts toward W, not PW. A
// primary that ends up with neither its own ack nor a fallback's gets a hint
// stored on the coordinator, once per put, as soon as that is known: at
// once when it is believed down with no stand-in or a refusal comes back,
// at half the deadline if it is still silent with no stand-in asked, at the
// latest when the put finishes. So every write that misses a primary leaves
// a hint (as Cassandra does; this is what heals a 3-node cluster at N=3).
//
// The request's own bounds (proto/request_limits.h) were checked where it
// entered the node (Service, PeerRpc); the checks here are the ones that
// need the bucket, the ring or the stored object.
//
// Every request ends, successfully or with an Unavailable status saying how
// many replicas answered, by its deadline at the latest. Single-threaded, on
// the node's loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>

#include "common/liveness.h"
#include "proto/messages.h"
#include "replication/hint_store.h"
#include "replication/replica.h"
#include "replication/service.h"
#include "ring/membership.h"
#include "rpc/peer_rpc.h"

namespace ringkv {

class Coordinator {
 public:
  using GetCallback = std::function<void(GetReply)>;
  using PutCallback = std::function<void(PutReply)>;

  // All pointers must outlive the Coordinator.
  Coordinator(const ServiceOptions* options, const Membership* membership, ServiceEnv env, PeerRpc* rpc,
              Replica* replica, HintStore* hints, const Liveness* liveness);
  ~Coordinator();

  // `done` is called exactly once, no later than `deadline_us` (monotonic).
  void Get(const GetRequest& request, int64_t deadline_us, GetCallback done);
  // A put without a write id is a new client write: its LWW timestamp and
  // write id are minted here, once, and travel with every forward of it.
  void Put(PutRequest request, int64_t deadline_us, PutCallback done);

 private:
  struct GetOp;
  struct PutOp;
  struct ForwardOp;

  void StartGet(const std::shared_ptr<GetOp>& op);
  void OnGetAnswer(const std::shared_ptr<GetOp>& op, size_t replica, const Status& status,
                   bool found, Object object);
  void MaybeFinishGet(const std::shared_ptr<GetOp>& op);
  // The causal merge of every answer that held the object (resolved for
  // lww buckets); nullopt when none did.
  std::optional<Object> Merged(const GetOp& op) const;
  void ReadRepair(const GetOp& op);

  // The key's owner: its first primary believed up, or this node.
  const NodeId& OwnerOf(const std::vector<NodeId>& primaries) const;
  // Where a put goes when this node does not coordinate it: the other
  // primaries, those believed up first, in preference order.
  std::vector<NodeId> ForwardTargets(const std::vector<NodeId>& primaries) const;
  void CoordinatePut(const std::shared_ptr<PutOp>& op);
  // Forwards a conditional put this primary, not the owner, received to
  // the owner, keeping a slice of the deadline to coordinate it here.
  void HandToOwner(const std::shared_ptr<PutOp>& op);
  // After this node's copy is stored (or failed to be): the other copies.
  void SendCopies(const std::shared_ptr<PutOp>& op, Result<Object> stored);
  void SendPut(const std::shared_ptr<PutOp>& op, size_t target);
  // The node receiving `node`'s copy of the op's partition while it moves;
  // null when it does not move.
  static const NodeId* PartnerOf(const PutOp& op, const NodeId& node);
  bool AddFallback(const std::shared_ptr<PutOp>& op, const NodeId& primary);
  void OnMidway(const std::shared_ptr<PutOp>& op);
  // The deadline timer of a put (op->timer), `delay` from now.
  void ArmPutDeadline(const std::shared_ptr<PutOp>& op, int64_t delay);
  void RecruitFallbacks(const std::shared_ptr<PutOp>& op);
  void OnPutAck(const std::shared_ptr<PutOp>& op, size_t target, const Status& status);
  void MaybeFinishPut(const std::shared_ptr<PutOp>& op);
  void FinishPut(const std::shared_ptr<PutOp>& op);
  // Whether a primary's copy is acknowledged, by it or by its stand-in.
  static bool Covered(const PutOp& op, const NodeId& primary);
  // Whether a stand-in for `primary` was asked and has not answered yet.
  static bool StandInAsked(const PutOp& op, const NodeId& primary);
  // Writes `primary`'s hint on this node, once per put.
  void LeaveHint(const std::shared_ptr<PutOp>& op, const NodeId& primary);

  void ForwardNext(const std::shared_ptr<ForwardOp>& op);
  void OnForwardAnswer(const std::shared_ptr<ForwardOp>& op, Result<MessageBody> answer);

  // Cancels the calls an op still waits on.
  void Forget(const std::vector<PeerRpc::CallId>& calls);

  const ServiceOptions* options_;
  // Read once per request: a request keeps the placement it started with.
  const Membership* membership_;
  ServiceEnv env_;
  PeerRpc* rpc_;
  Replica* replica_;
  HintStore* hints_;
  const Liveness* liveness_;
  // Replicas sent the merged object after a read (docs/metrics.md).
  Counter* read_repairs_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ringkv
