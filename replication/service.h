// Service: the protocol brain of one node.
//
// It owns the node's coordinator and replica logic and routes every message
// to them. It talks to the world only through ServiceEnv (clock, scheduler,
// transport, storage, random), so the same code runs in the real node
// (node/, libevent and LevelDB) and in the deterministic simulator
// (tests/sim). Single-threaded: every method and callback runs on the
// owning loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/liveness.h"
#include "common/metrics.h"
#include "common/random.h"
#include "common/scheduler.h"
#include "common/transport.h"
#include "proto/messages.h"
#include "replication/bucket.h"
#include "replication/forward_dedup.h"
#include "ring/gossip.h"
#include "ring/membership.h"
#include "ring/ring.h"
#include "rpc/peer_rpc.h"
#include "storage/storage.h"

namespace ringkv {

struct ServiceOptions {
  NodeId self;
  // Identity of this node's data directory (see causality/object.h Actor).
  uint64_t incarnation = 0;
  BucketTable buckets;
  // Deadline of a request that does not carry one.
  uint32_t default_timeout_ms = 5000;
  // fsync every object write before acknowledging it.
  bool sync_writes = false;
  // Pace of hinted handoff (replication/hinted_handoff.h).
  double hint_rate_per_sec = 2000;
  // Off: hints are still stored but never handed back (tests of the other
  // repair paths, anti-entropy).
  bool deliver_hints = true;
  // Members' addresses ("host:port"), handed to clients that ask for the
  // ring so they can route requests themselves.
  std::map<NodeId, std::string> addresses;
  // Heartbeat gossip and phi-accrual failure detection (ring/gossip.h).
  // Off: no gossip, and env.liveness (or everyone up) decides.
  bool failure_detection = true;
  GossipOptions gossip;
  // Gossip generation of this process: must grow at every restart of the
  // node, or peers ignore its heartbeats. 0 = clock WallMicros() at
  // construction (Cassandra uses the start time the same way).
  uint64_t generation = 0;
  // Told one line about what an operator must hear of (a hint that cannot
  // be delivered); may be empty. ringkv-node logs it as a warning.
  std::function<void(const std::string&)> warn;
};

// Everything the service uses from the outside world. Each member must
// outlive the Service.
struct ServiceEnv {
  Clock* clock;
  Scheduler* scheduler;
  Transport* transport;
  Storage* storage;
  Random* random;
  // Who is believed up; null means the service's own gossiper (everyone
  // when failure_detection is off).
  const Liveness* liveness = nullptr;
  // Optional transport-level view (false while connections to a node keep
  // failing), combined with the gossiper's: either one saying down is down.
  const Liveness* reachability = nullptr;
  // The node's metrics (common/metrics.h), shared with the server, the
  // transport and the cache, reported in StatusReport; null: the service
  // keeps a registry of its own.
  MetricsRegistry* metrics = nullptr;
};

class Coordinator;
class HintStore;
class HintedHandoff;
class ObjectStore;
class ObjectWriteObserver;
class Replica;
class RequestMetrics;

class Service {
 public:
  Service(ServiceOptions options, Ring ring, ServiceEnv env);
  ~Service();

  // Loads persisted state (pending hints) and starts background work
  // (hint delivery). Call once, before traffic.
  Status Start();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // A request from a client connection (get, put or ping). `reply` is called
  // exactly once, on the loop, possibly before this returns; after the
  // request's deadline at the latest.
  void HandleClientRequest(Message&& request, std::function<void(Message)> reply);

  // Client requests of a type the service itself does not answer go to
  // `handler` (components built beside it: anti-entropy's admin requests),
  // with their monotonic deadline; without one they get an ErrorReply.
  using ClientHandler =
      std::function<void(MessageBody& body, int64_t deadline_us, PeerRpc::Respond respond)>;
  void SetClientHandler(ClientHandler handler) { extra_client_ = std::move(handler); }
  // The handler set, so that another component can put itself in front.
  const ClientHandler& client_handler() const { return extra_client_; }

  // A message that arrived from another node through the Transport.
  void OnPeerMessage(Message&& message);

  // The node's peer RPC layer, for components built beside the service
  // (they register their own request types).
  PeerRpc& rpc() { return rpc_; }

  // This node's view: each peer up or down (the failure detector's phi, and
  // down too while the transport cannot reach it), pending hints per
  // target, and a snapshot of the node's metrics.
  NodeStatus StatusReport() const;
  // Pending hints per target.
  const std::map<NodeId, uint64_t>& HintCounts() const;

  const ServiceOptions& options() const { return options_; }
  // The ring state's bucket properties, adopted with it (RingKeeper): what
  // coordinators, replicas and the HTTP API use from the next request on.
  void SetBuckets(const std::vector<BucketInfo>& buckets) { options_.buckets.Assign(buckets); }
  // The current ring; valid until the next epoch is published.
  const Ring& ring() const { return membership_.ring(); }
  // The node's view of the ring: publish a new epoch here (ring/membership.h).
  Membership& membership() { return membership_; }
  // Null when failure_detection is off.
  const Gossiper* gossiper() const { return gossiper_.get(); }
  // The same, for the ring keeper, which rides its ring state on gossip.
  Gossiper* mutable_gossiper() { return gossiper_.get(); }
  // Who this node believes up (gossip and transport combined).
  const Liveness& liveness() const { return *env_.liveness; }
  // This node's replica: the causal merge every repair goes through.
  Replica& replica() { return *replica_; }
  // This node's hints (anti-entropy's reaping drops those it makes obsolete).
  HintStore& hints() { return *hints_; }
  // Every later object write is staged through `observer` (null: none).
  void SetObjectWriteObserver(ObjectWriteObserver* observer);
  // Writes the object writes staged this turn now (object_store.h: group
  // commit), so that a clean shutdown saves trees that include them.
  Status CommitWrites();

 private:
  // The monotonic deadline of a client request, counted from now.
  int64_t DeadlineFor(const Message& m) const;
  ReplicaGetReply ReadLocal(const ReplicaGetRequest& get);
  RingInfo RingReport() const;
  // Who gossip reaches: the ring's members and every other member with an
  // address (joining and exiting ones).
  std::vector<NodeId> GossipMembers() const;
  // ringkv_peer_up (or, with `phi`, ringkv_peer_phi) per peer.
  std::vector<LabeledValue> PeerGauge(bool phi) const;
  // The requests this node serves to its peers, registered on rpc_.
  void ServePeers();
  void ServeForward(const PeerRpc::Request& request, PutRequest& put, PeerRpc::Respond respond);
  // Where a hint for `target` of `partition` goes in this ring
  // (HandoffOptions::route).
  std::vector<NodeId> HintRoute(const NodeId& target, uint32_t partition,
                                std::string_view bucket) const;
  // Whether this node keeps a copy of `partition` for `bucket`: a primary,
  // or the receiver of a move of it.
  bool TakesHandoff(uint32_t partition, std::string_view bucket) const;

  // Declared first, so it is destroyed after every component holding its
  // handles. Null when the environment brought a registry.
  std::unique_ptr<MetricsRegistry> own_metrics_;
  ServiceOptions options_;
  Membership membership_;
  ServiceEnv env_;
  // This process's gossip generation; stamped on everything it sends.
  uint64_t generation_;
  // Declared before everything that makes calls through it, so that it is
  // destroyed after them.
  PeerRpc rpc_;
  ForwardDedup forwarded_;
  AllUp all_up_;
  // Declared before the coordinator and handoff, which hold them as Liveness.
  std::unique_ptr<Gossiper> gossiper_;
  std::unique_ptr<BothUp> gossip_and_reachability_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<HintStore> hints_;
  std::unique_ptr<Replica> replica_;
  std::unique_ptr<RequestMetrics> requests_;
  Counter* invalid_client_requests_;
  // Replica writes refused by admission (replication/admission.h).
  Counter* invalid_peer_requests_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<HintedHandoff> handoff_;
  ClientHandler extra_client_;
  // Values per successful read that found some (docs/metrics.md).
  Histogram* read_siblings_;
  // Each peer as this node believes it (StatusReport's view). Last, so they
  // are unregistered before what they read is destroyed.
  MetricsRegistry::CallbackHandle peer_up_;
  MetricsRegistry::CallbackHandle peer_phi_;
};

}  // namespace ringkv
