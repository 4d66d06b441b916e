// SimNetwork: every byte between simulated nodes, with the faults of a real
// network.
//
// Each directed link has a latency distribution (uniform base plus a rare
// long tail), loss, duplication and reordering (an extra delay that lets
// later messages overtake). Partitions of any shape are sets of cut directed
// links: halves, one node isolated, one-way cuts, bridges; a cut also drops
// messages already in flight on that link when they arrive (as a reset TCP
// connection would). Messages stay encoded bytes end to end; the delivery
// callback decodes them on arrival, exactly as a real node would. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/random.h"
#include "common/transport.h"
#include "tests/sim/sim_world.h"

namespace ringkv::sim {

struct LinkProfile {
  int64_t min_latency_us = 100;
  int64_t max_latency_us = 1500;
  double tail_probability = 0.0;   // chance of a long delay
  int64_t tail_latency_us = 50000; // upper bound of the long delay
  double loss = 0.0;
  double duplicate = 0.0;
  double reorder = 0.0;             // chance of an extra delay of up to reorder_delay_us
  int64_t reorder_delay_us = 20000;
};

struct NetworkStats {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t lost = 0;        // random loss
  uint64_t cut = 0;         // dropped by a partition
  uint64_t duplicated = 0;
  uint64_t unknown = 0;     // sent to a node id not in the cluster
  uint64_t bytes = 0;
};

class SimNetwork {
 public:
  // Called on the receiving node's loop with the bytes as sent.
  using DeliverFn = std::function<void(int from, int to, std::string bytes)>;

  // `processes[i]` is node `ids[i]`; both outlive the network.
  SimNetwork(SimWorld* world, std::vector<SimProcess*> processes, std::vector<NodeId> ids,
             LinkProfile profile);
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  void set_deliver(DeliverFn fn) { deliver_ = std::move(fn); }
  // The Transport that node `i` sends through (owned by the network).
  Transport* transport(int i) { return transports_[i].get(); }
  int size() const { return static_cast<int>(ids_.size()); }
  const NodeId& id(int i) const { return ids_[i]; }
  // Index of a node id, or -1.
  int IndexOf(const NodeId& id) const;

  void Send(int from, int to, std::string bytes);

  // Link behaviour: the default for all links, or one directed link.
  void set_default_profile(const LinkProfile& p) { default_profile_ = p; }
  const LinkProfile& default_profile() const { return default_profile_; }
  void SetLinkProfile(int from, int to, const LinkProfile& p);
  void ClearLinkProfiles() { link_profiles_.clear(); }

  // Partitions. Cuts are directed; Isolate and Split cut both directions.
  void Cut(int from, int to);
  void Heal(int from, int to);
  void CutBoth(int a, int b) { Cut(a, b); Cut(b, a); }
  void Isolate(int node);
  // Cuts every link between nodes of different groups (nodes in no group
  // keep all their links: a bridge).
  void Split(const std::vector<std::vector<int>>& groups);
  void HealAll();
  bool IsCut(int from, int to) const { return cut_[static_cast<size_t>(from) * ids_.size() + to] != 0; }
  int cut_links() const { return cut_count_; }

  const NetworkStats& stats() const { return stats_; }

 private:
  class Endpoint;
  const LinkProfile& ProfileFor(int from, int to) const;
  int64_t SampleLatency(const LinkProfile& p);
  void Schedule(int from, int to, int64_t delay, std::string bytes, uint64_t hash);

  SimWorld* world_;
  std::vector<SimProcess*> processes_;
  std::vector<NodeId> ids_;
  std::unordered_map<NodeId, int> index_;
  std::vector<std::unique_ptr<Transport>> transports_;
  Random random_;
  LinkProfile default_profile_;
  std::unordered_map<uint64_t, LinkProfile> link_profiles_;
  std::vector<uint8_t> cut_;
  int cut_count_ = 0;
  DeliverFn deliver_;
  NetworkStats stats_;
};

}  // namespace ringkv::sim
