// FailureDetector: Cassandra's phi-accrual failure detector.
//
// For each node it keeps an arrival window, the last (up to window_size)
// intervals between heartbeat arrivals, and reports suspicion as
//   phi = kPhiFactor * (now - last_arrival) / mean_interval,
// kPhiFactor = 1/ln(10). This is Cassandra's exponential-distribution form
// of phi (-log10 of the probability that a heartbeat is this late), so phi
// grows linearly with silence and a threshold of 8 convicts after about
// 18.4 mean intervals of silence. Two guards, both from Cassandra:
//  - an interval longer than max_interval_us (a pause, a partition) is not
//    added to the window, so one long silence does not inflate the mean and
//    slow every later detection;
//  - until the window holds min_samples intervals the mean is the expected
//    heartbeat interval, so a few early bursty arrivals cannot make phi jumpy.
// A heartbeat from a higher generation (the node restarted) starts a fresh
// window; one from a lower generation is stale and ignored.
//
// Pure code: times are passed in (monotonic microseconds), nothing reads a
// clock. Not thread-safe; owned by one loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>

#include "common/transport.h"

namespace ringkv {

// 1/ln(10): converts Cassandra's t/mean to -log10(P(silence >= t)).
inline constexpr double kPhiFactor = 0.43429448190325176;

struct FailureDetectorOptions {
  // The heartbeat period the sender aims for; the mean until min_samples.
  int64_t expected_interval_us = 1'000'000;
  // Longer intervals are not sampled. 0 = 2 * expected_interval_us
  // (Cassandra's default: its initial value, twice the gossip interval).
  int64_t max_interval_us = 0;
  size_t window_size = 1000;
  size_t min_samples = 5;
};

// The intervals between one node's heartbeat arrivals. A value.
class ArrivalWindow {
 public:
  ArrivalWindow(size_t window_size, int64_t max_interval_us)
      : window_size_(window_size), max_interval_us_(max_interval_us) {}

  // Records an arrival at `now_us`; the interval since the previous one is
  // sampled unless it exceeds the cap (or is negative).
  void Add(int64_t now_us);
  bool empty() const { return last_arrival_us_ < 0; }
  int64_t last_arrival_us() const { return last_arrival_us_; }
  size_t samples() const { return intervals_.size(); }
  // Mean sampled interval; REQUIRES: samples() > 0.
  double Mean() const { return static_cast<double>(sum_) / static_cast<double>(intervals_.size()); }

 private:
  size_t window_size_;
  int64_t max_interval_us_;
  int64_t last_arrival_us_ = -1;
  int64_t sum_ = 0;
  std::deque<int64_t> intervals_;
};

class FailureDetector {
 public:
  explicit FailureDetector(FailureDetectorOptions options = {});

  // phi after `silence_us` of silence when heartbeats come every `mean_us`.
  static double PhiOf(int64_t silence_us, double mean_us);
  // Silence after which phi reaches `threshold` for that mean.
  static int64_t SilenceForPhi(double threshold, double mean_us);

  // A heartbeat of `node`'s incarnation `generation` arrived at `now_us`.
  void Report(const NodeId& node, uint64_t generation, int64_t now_us);
  // Forgets `node` entirely.
  void Remove(const NodeId& node);

  bool Known(const NodeId& node) const { return windows_.count(node) != 0; }
  // phi of `node` at `now_us`; 0 for a node never reported (the caller
  // decides what silence from an unknown node means).
  double Phi(const NodeId& node, int64_t now_us) const;
  // The mean interval phi uses for `node` (the expected interval until
  // min_samples intervals are known, or for an unknown node).
  double MeanInterval(const NodeId& node) const;
  // Monotonic time at which `node` crosses `threshold` if nothing more
  // arrives; nullopt for an unknown node.
  std::optional<int64_t> ConvictionTime(const NodeId& node, double threshold) const;
  std::optional<int64_t> LastArrival(const NodeId& node) const;
  size_t Samples(const NodeId& node) const;

  const FailureDetectorOptions& options() const { return options_; }

 private:
  struct Entry {
    uint64_t generation;
    ArrivalWindow window;
  };
  FailureDetectorOptions options_;
  std::map<NodeId, Entry> windows_;
};

}  // namespace ringkv
