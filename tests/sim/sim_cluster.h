// SimCluster: N real ringkv::Service instances wired to simulated clocks,
// schedulers, network and disks, in one process.
//
// Each node has a SimProcess (its loop), a SimClock (offset and drift), a
// SimScheduler, a Transport endpoint on the SimNetwork, a MemoryStorage
// engine behind a SimDisk, and a Random derived from the run's seed. The
// engine outlives the Service: Kill destroys the Service (and, for a power
// loss, the unsynced writes), Restart builds a new Service on the same
// engine with the same incarnation, Wipe gives the node an empty engine and
// a new incarnation (kv679). Messages are encoded by the sender and decoded
// with DecodeMessage on delivery, exactly as over TCP. Each start of a node
// gets a fresh metrics registry, as a restarted process would. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "causality/object.h"
#include "common/metrics.h"
#include "common/random.h"
#include "node/node.h"
#include "replication/bucket.h"
#include "replication/ring_keeper.h"
#include "replication/service.h"
#include "ring/gossip.h"
#include "ring/ring.h"
#include "storage/memory_storage.h"
#include "tests/sim/sim_clock.h"
#include "tests/sim/sim_disk.h"
#include "tests/sim/sim_network.h"
#include "tests/sim/sim_scheduler.h"
#include "tests/sim/sim_world.h"

namespace ringkv::sim {

class SimCluster;

// One object as a node's engine holds it.
struct StoredObject {
  uint32_t partition = 0;
  std::string bucket, key;
  std::string record;  // undecoded (storage/record.h)
};

struct ClusterOptions {
  int nodes = 5;
  uint32_t partitions = 64;
  uint32_t ring_n = 3;
  BucketTable buckets;
  bool sync_writes = true;
  uint32_t default_timeout_ms = 2000;
  LinkProfile link;
  // Each node's wall clock offset is uniform in [-max, max]; drift likewise.
  int64_t max_clock_offset_us = 0;
  int64_t max_drift_ppm = 0;
  // Failure handling (ServiceOptions): heartbeat gossip and phi threshold,
  // and the pace of hinted handoff.
  bool failure_detection = true;
  GossipOptions gossip;
  double hint_rate_per_sec = 2000;
  // False: hints are stored but never handed back (ringkv-node
  // --hinted-handoff off), so that anti-entropy alone must heal.
  bool deliver_hints = true;
  // Planted bugs (tests only): wrap a node's transport, or restart a wiped
  // node with its old incarnation (the kv679 mistake).
  std::function<std::unique_ptr<Transport>(int node, Transport* base, SimCluster* cluster)>
      wrap_transport;
  bool reuse_incarnation_after_wipe = false;
  // Members of the first ring (nodes 0..ring_members-1); 0 = every node. The
  // others run, outside the ring, until a later epoch names them.
  int ring_members = 0;
  // The last `joiners` nodes are not started with the others: each starts
  // when a ring change stages its join (StartJoined), as `ringkv-node
  // --join` does. They are outside the first ring.
  int joiners = 0;
  // Ring changes and transfers (tick, settle, cleanup delay, limits).
  RingKeeperOptions ring_changes;
  // Each node's record cache (node/node.h), as ringkv-node's default.
  size_t object_cache_bytes = size_t{32} << 20;
  // Every node loses its timers (a scheduler that never fires).
  bool lose_timers = false;
  // Active anti-entropy; off unless a test turns it on.
  aae::AntiEntropyOptions aae = [] {
    aae::AntiEntropyOptions o;
    o.enabled = false;
    return o;
  }();
};

class SimCluster {
 public:
  // `world` outlives the cluster.
  SimCluster(SimWorld* world, ClusterOptions options);
  ~SimCluster();
  SimCluster(const SimCluster&) = delete;
  SimCluster& operator=(const SimCluster&) = delete;

  int size() const { return static_cast<int>(nodes_.size()); }
  const NodeId& id(int i) const { return ids_[i]; }
  int IndexOf(const NodeId& id) const { return network_->IndexOf(id); }
  const Ring& ring() const { return *ring_; }
  const ClusterOptions& options() const { return options_; }
  SimWorld& world() { return *world_; }
  SimNetwork& network() { return *network_; }
  SimProcess& process(int i) { return *nodes_[i]->process; }
  SimClock& clock(int i) { return *nodes_[i]->clock; }
  SimDisk& disk(int i) { return *nodes_[i]->disk; }
  MemoryStorage& engine(int i) { return *nodes_[i]->engine; }
  uint64_t incarnation(int i) const { return nodes_[i]->incarnation; }
  // Null while the node is down.
  Service* service(int i) { return nodes_[i]->node ? &nodes_[i]->node->service() : nullptr; }
  // The node as node/node.h built it, the production assembly; null while down.
  ringkv::Node* node(int i) { return nodes_[i]->node.get(); }
  // The metrics of node i's current (or last) start.
  bool up(int i) const { return nodes_[i]->node != nullptr; }
  // Started and not retired: a joiner before its join and a node that left
  // the ring and was stopped are absent; faults and restarts skip them.
  bool present(int i) const { return nodes_[i]->present; }
  // The address a node joins with (the simulated network routes by id).
  std::string address(int i) const { return "sim:" + ids_[i]; }
  bool paused(int i) const { return nodes_[i]->process->paused(); }
  // Node i's loop is blocked by its disk now or its disk is set slow.
  bool slow(int i) const {
    const DiskFaults& f = nodes_[i]->faults;
    return f.write_latency_us > 0 || f.sync_latency_us > 0 || nodes_[i]->process->BusyDelay() > 0;
  }
  // Bumped whenever something may make node i answer late (pause, kill,
  // slow disk), so a late answer is excused.
  uint64_t disturbances(int i) const { return nodes_[i]->disturbances; }

  // Process crash (engine keeps everything) or, with `power_loss`, a machine
  // crash (unsynced writes are lost).
  void Kill(int i, bool power_loss);
  // REQUIRES: !up(i).
  void Restart(int i);
  // REQUIRES: !up(i). Replaces the engine with an empty one; the next
  // Restart uses a new incarnation.
  void Wipe(int i);
  void Pause(int i);
  void Resume(int i);
  void SetDiskFaults(int i, const DiskFaults& faults);
  // Starts the absent joiner i from the ring state its join was answered
  // with; every later restart starts from the same (its persisted state
  // wins once it has one).
  void StartJoined(int i, RingState state);
  // Stops node i for good (a departed member, `ringkv-cluster remove`): it
  // stays down through every heal; its engine is kept for the checkers.
  void Retire(int i);

  // Runs a client request on node i's loop; `reply` is called on that loop
  // (never if the node dies first).
  void ClientCall(int i, Message request, std::function<void(Message)> reply);

  // Node i's stored copy of (bucket, key), read straight from its engine.
  Result<std::optional<Object>> ReadStored(int i, const std::string& bucket,
                                           const std::string& key);
  // Every object node i's engine holds, in key order.
  Result<std::vector<StoredObject>> StoredObjects(int i);
  // Largest distance of any node's wall clock from true time, at any
  // moment of the run so far (offsets, clock jumps and drift).
  int64_t MaxWallErrorUs() const;
  // Publishes a new ring epoch to every running node (and to nodes started
  // later), as a ring change will; placement here follows it too.
  void PublishRing(Ring next);
  // The placement Primaries and ReadStored judge by, without telling any
  // node: the final ring after the nodes' own ring changes.
  void JudgeBy(Ring ring) { ring_.emplace(std::move(ring)); }

  // Indices of the key's primaries.
  std::vector<int> Primaries(const std::string& bucket, const std::string& key) const;

  uint64_t decode_errors() const { return decode_errors_; }
  // Service::Start failures (node: status).
  const std::vector<std::string>& start_failures() const { return start_failures_; }
  // Called after a node goes silent (killed or paused: `silent` true) or
  // returns (restarted or resumed: false). One listener.
  void set_lifecycle_listener(std::function<void(int node, bool silent)> l) {
    lifecycle_ = std::move(l);
  }
  // Virtual times at which node i was killed, in order.
  const std::vector<int64_t>& kills(int i) const { return nodes_[i]->kills; }
  // True when node i was killed at some time in [from_us, to_us].
  bool KilledDuring(int i, int64_t from_us, int64_t to_us) const;

  // Injects bytes as if `from` had sent them to `to` (planted-bug wrappers).
  void Inject(int from, int to, std::string bytes) { network_->Send(from, to, std::move(bytes)); }

 private:
  struct Node {
    std::unique_ptr<SimProcess> process;
    std::unique_ptr<SimClock> clock;
    std::unique_ptr<SimScheduler> scheduler;
    std::unique_ptr<Random> random;
    std::unique_ptr<MemoryStorage> engine;
    std::unique_ptr<SimDisk> disk;
    std::unique_ptr<Transport> wrapped;  // planted-bug wrapper, if any
    std::unique_ptr<ringkv::Node> node;
    uint64_t incarnation = 0;
    // Grows at every start, even across a wipe on a clock stepped back.
    uint64_t generation = 0;
    uint64_t disturbances = 0;
    bool present = true;
    std::optional<RingState> joined;  // the state its join was answered with
    DiskFaults faults;
    std::vector<int64_t> kills;
  };
  void StartService(int i);
  // Starts node i's process and service, traces `event` and tells the
  // lifecycle hook: what a restart and a joiner's first start share.
  void Boot(int i, std::string_view event);
  void Deliver(int from, int to, std::string bytes);
  uint64_t NewIncarnation();

  SimWorld* world_;
  ClusterOptions options_;
  std::vector<NodeId> ids_;
  std::optional<Ring> ring_;
  // The ring every node is started from when it has no state of its own
  // (epoch 1, or the last PublishRing).
  std::optional<Ring> start_ring_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unique_ptr<SimNetwork> network_;
  uint64_t decode_errors_ = 0;
  std::vector<std::string> start_failures_;
  std::function<void(int, bool)> lifecycle_;
};

}  // namespace ringkv::sim
