// DetectionProbe: measures how a run handles a node's silence. For every
// node that goes silent (killed or paused), it records the virtual time
// until each other node's gossiper (Service::gossiper()->IsUp) marks it
// down; when the node returns (restarted or resumed) holding hints for it
// elsewhere, the time until no node holds a hint for it (the drain).
//
// A pair (silent node, observer) is measured only when the observer is up,
// running and believes the node up when the silence starts, and stays
// undisturbed (not killed or paused) until it convicts the node. A silence
// that ends first leaves the pair undetected; the checker fails only when
// such a silence lasted longer than the detection bound (the observer
// should have convicted it), or a detection took longer than the bound.
// Polls every `poll_us` of virtual time while a measurement is open, so
// figures are exact to that resolution. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/sim/checkers.h"
#include "tests/sim/sim_cluster.h"

namespace ringkv::sim {

class DetectionProbe {
 public:
  // `cluster` outlives the probe; the probe installs itself as the
  // cluster's lifecycle listener.
  DetectionProbe(SimCluster* cluster, int64_t poll_us);
  ~DetectionProbe();
  DetectionProbe(const DetectionProbe&) = delete;
  DetectionProbe& operator=(const DetectionProbe&) = delete;

  // Stops measuring: open pairs are judged as if the silence ended now.
  void Close();

  // The longest a detection may take: phi_threshold / kPhiFactor times the
  // detector's largest mean interval (2 gossip intervals), plus two
  // intervals for the heartbeat to propagate and one poll.
  int64_t BoundUs() const;

  // Detection latencies (silence start -> marked down), in microseconds.
  const std::vector<int64_t>& samples() const { return samples_; }
  uint64_t silences() const { return silences_; }
  // Pairs whose silence ended before the observer convicted it.
  uint64_t returned_first() const { return returned_first_; }
  // Drain times after a return (us), and returns whose hints had not
  // drained when the node went silent again or the probe closed.
  const std::vector<int64_t>& drains() const { return drains_; }
  uint64_t undrained() const { return undrained_; }
  // "detection: N samples min/median/max ..." (empty when nothing measured).
  std::string Summary() const;
  // The "detection" checker.
  CheckResult Check() const;

 private:
  struct Pair {
    int node, observer;
    int64_t since_us;
    uint64_t observer_disturbances;
  };
  void OnLifecycle(int node, bool silent);
  void EndSilence(int node);
  void Poll();

  SimCluster* cluster_;
  int64_t poll_us_;
  struct Drain {
    int node;
    int64_t since_us;
  };
  uint64_t HintsFor(int node) const;

  std::vector<Pair> open_;
  std::vector<Drain> draining_;
  std::vector<int64_t> drains_;
  uint64_t undrained_ = 0;
  std::vector<int64_t> silent_since_;  // -1 while the node is not silent
  std::vector<int64_t> samples_;
  std::vector<std::string> late_;
  uint64_t silences_ = 0;
  uint64_t returned_first_ = 0;
  EventId timer_ = 0;
  bool closed_ = false;
};

}  // namespace ringkv::sim
