#include "ring/failure_detector.h"

#include <algorithm>
#include <cmath>

namespace ringkv {

void ArrivalWindow::Add(int64_t now_us) {
  if (last_arrival_us_ >= 0) {
    int64_t interval = now_us - last_arrival_us_;
    if (interval >= 0 && interval <= max_interval_us_) {
      intervals_.push_back(interval);
      sum_ += interval;
      if (intervals_.size() > window_size_) {
        sum_ -= intervals_.front();
        intervals_.pop_front();
      }
    }
  }
  last_arrival_us_ = std::max(last_arrival_us_, now_us);
}

FailureDetector::FailureDetector(FailureDetectorOptions options) : options_(options) {
  options_.expected_interval_us = std::max<int64_t>(1, options_.expected_interval_us);
  if (options_.max_interval_us <= 0) options_.max_interval_us = 2 * options_.expected_interval_us;
  options_.window_size = std::max<size_t>(1, options_.window_size);
}

double FailureDetector::PhiOf(int64_t silence_us, double mean_us) {
  if (silence_us <= 0 || mean_us <= 0) return 0;
  return kPhiFactor * static_cast<double>(silence_us) / mean_us;
}

int64_t FailureDetector::SilenceForPhi(double threshold, double mean_us) {
  return static_cast<int64_t>(std::ceil(threshold / kPhiFactor * mean_us));
}

void FailureDetector::Report(const NodeId& node, uint64_t generation, int64_t now_us) {
  auto it = windows_.find(node);
  if (it != windows_.end() && generation < it->second.generation) return;
  if (it == windows_.end() || generation > it->second.generation) {
    // A restarted node's old rhythm says nothing about the new process.
    Entry fresh{generation, ArrivalWindow(options_.window_size, options_.max_interval_us)};
    it = windows_.insert_or_assign(node, std::move(fresh)).first;
  }
  it->second.window.Add(now_us);
}

void FailureDetector::Remove(const NodeId& node) { windows_.erase(node); }

double FailureDetector::MeanInterval(const NodeId& node) const {
  auto it = windows_.find(node);
  if (it == windows_.end() || it->second.window.samples() < options_.min_samples) {
    return static_cast<double>(options_.expected_interval_us);
  }
  return it->second.window.Mean();
}

double FailureDetector::Phi(const NodeId& node, int64_t now_us) const {
  auto it = windows_.find(node);
  if (it == windows_.end()) return 0;
  return PhiOf(now_us - it->second.window.last_arrival_us(), MeanInterval(node));
}

std::optional<int64_t> FailureDetector::ConvictionTime(const NodeId& node,
                                                       double threshold) const {
  auto it = windows_.find(node);
  if (it == windows_.end()) return std::nullopt;
  return it->second.window.last_arrival_us() + SilenceForPhi(threshold, MeanInterval(node));
}

std::optional<int64_t> FailureDetector::LastArrival(const NodeId& node) const {
  auto it = windows_.find(node);
  if (it == windows_.end()) return std::nullopt;
  return it->second.window.last_arrival_us();
}

size_t FailureDetector::Samples(const NodeId& node) const {
  auto it = windows_.find(node);
  return it == windows_.end() ? 0 : it->second.window.samples();
}

}  // namespace ringkv
