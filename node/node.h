// Node: the one place that builds a ringkv node. Given an environment
// (clock, scheduler, transport, storage engine, random) and its settings, it
// builds every component in dependency order and owns them: the metrics
// registry, the record cache above the engine, the node's identity read from
// the engine's metadata (incarnation, next gossip generation), and the
// protocol service (peer RPC, gossip, replica, coordinator, hinted handoff)
// and anti-entropy beside it.
// No component builds its neighbours.
//
// `ringkv-node` (node/main.cc) and the simulator (tests/sim) both build
// their nodes here, so the simulator runs the wiring that ships: the same
// cache, the same metadata, the same order. Only the environment differs.
//
// Single-threaded: built, started and used on the node's loop. Everything
// in NodeEnv must outlive the Node.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "antientropy/anti_entropy.h"
#include "common/clock.h"
#include "common/liveness.h"
#include "common/metrics.h"
#include "common/random.h"
#include "common/scheduler.h"
#include "common/status.h"
#include "common/transport.h"
#include "replication/ring_keeper.h"
#include "replication/service.h"
#include "ring/ring.h"
#include "ring/ring_state.h"
#include "storage/cached_storage.h"
#include "storage/storage.h"

namespace ringkv {

struct NodeEnv {
  Clock* clock = nullptr;
  Scheduler* scheduler = nullptr;
  Transport* transport = nullptr;
  // The storage engine (LevelDB in production); the node puts its record
  // cache above it.
  Storage* engine = nullptr;
  Random* random = nullptr;
  // Optional transport-level view of who is reachable (the peer transport's).
  const Liveness* reachability = nullptr;
  // The registry every component of the node counts in; null: the node owns
  // one. ringkv-node passes the process's, which its server and peer
  // transport share, so one status reply shows them all.
  MetricsRegistry* metrics = nullptr;
  // Draws the incarnation of a new data directory. Null: the operating
  // system's entropy, so that no two directories ever share one; the
  // simulator passes its seeded source to stay reproducible.
  std::function<uint64_t()> fresh_incarnation;
};

struct NodeConfig {
  // The service's settings; `incarnation` and `generation` are ignored and
  // read from the engine's metadata instead.
  ServiceOptions service;
  // Records cached above the engine; 0 = no cache.
  size_t object_cache_bytes = size_t{32} << 20;
  // Lines for the operator's log while a data directory of an older storage
  // format is migrated at open (storage/format_migration.h); null: none.
  std::function<void(const std::string&)> storage_info;
  // Active anti-entropy (antientropy/anti_entropy.h).
  aae::AntiEntropyOptions aae;
  // The ring state to start from (the cluster file's epoch 1, a standalone
  // node's, or the one a join answered with); a state persisted in the
  // data directory wins unless this one's epoch is higher. Unset: derived
  // from the Ring given to Open and service.addresses.
  std::optional<RingState> ring_state;
  // Ring changes and transfers (replication/ring_keeper.h); `catch_up` is
  // filled in by Open (an anti-entropy exchange).
  RingKeeperOptions ring_changes;
  // The gossip generation is at least this (the simulator's clocks may be
  // stepped back between two lives of a wiped node).
  uint64_t generation_floor = 0;
};

class Node {
 public:
  // Builds the node: opens the metadata (stamping a new directory), takes
  // the next generation, chooses the ring state (RingKeeper::Choose),
  // builds the service on its placement, anti-entropy and the ring keeper. Errors: the engine's, or
  // Corruption / InvalidArgument for unreadable metadata.
  static Result<std::unique_ptr<Node>> Open(NodeConfig config, Ring ring, NodeEnv env);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Loads persisted state and starts background work (Service::Start,
  // then anti-entropy).
  Status Start();
  // A clean shutdown's last words: saves the anti-entropy trees with their
  // marker, so the next start need not rebuild them, after writing the
  // object writes still staged in the turn's group. Call after the loop
  // stopped serving; a node that never calls it (a crash) rebuilds.
  Status Shutdown();

  Service& service() { return *service_; }
  aae::AntiEntropy& anti_entropy() { return *aae_; }
  RingKeeper& ring_keeper() { return *keeper_; }
  MetricsRegistry& metrics() { return *metrics_; }
  // What the protocol reads and writes: the record cache over the engine,
  // or the engine itself when there is no cache.
  Storage& storage() { return cache_ ? static_cast<Storage&>(*cache_) : *env_.engine; }
  bool cached() const { return cache_ != nullptr; }
  uint64_t incarnation() const { return incarnation_; }
  uint64_t generation() const { return generation_; }

 private:
  explicit Node(NodeEnv env)
      : env_(std::move(env)),
        own_metrics_(env_.metrics ? nullptr : std::make_unique<MetricsRegistry>()),
        metrics_(env_.metrics ? env_.metrics : own_metrics_.get()) {}

  NodeEnv env_;
  // Declared first: it outlives every component's metric handles.
  std::unique_ptr<MetricsRegistry> own_metrics_;
  MetricsRegistry* metrics_ = nullptr;
  std::unique_ptr<CachedStorage> cache_;
  uint64_t incarnation_ = 0;
  uint64_t generation_ = 0;
  std::unique_ptr<Service> service_;
  std::unique_ptr<aae::AntiEntropy> aae_;
  std::unique_ptr<RingKeeper> keeper_;
};

}  // namespace ringkv
