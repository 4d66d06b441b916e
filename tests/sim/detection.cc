#include "tests/sim/detection.h"

#include <algorithm>
#include <cstdio>

#include "ring/failure_detector.h"

namespace ringkv::sim {

DetectionProbe::DetectionProbe(SimCluster* cluster, int64_t poll_us)
    : cluster_(cluster), poll_us_(poll_us), silent_since_(cluster->size(), -1) {
  cluster_->set_lifecycle_listener([this](int node, bool silent) { OnLifecycle(node, silent); });
}

DetectionProbe::~DetectionProbe() {
  cluster_->set_lifecycle_listener(nullptr);
  if (timer_) cluster_->world().queue().Cancel(timer_);
}

int64_t DetectionProbe::BoundUs() const {
  const GossipOptions& g = cluster_->options().gossip;
  return FailureDetector::SilenceForPhi(g.phi_threshold, 2.0 * g.interval_us) +
         2 * g.interval_us + poll_us_;
}

void DetectionProbe::OnLifecycle(int node, bool silent) {
  if (closed_) return;
  SimWorld& w = cluster_->world();
  if (!silent) {
    EndSilence(node);
    if (HintsFor(node) > 0) {
      draining_.push_back(Drain{node, w.now()});
      if (timer_ == 0) timer_ = w.queue().After(poll_us_, [this] { Poll(); });
    }
    return;
  }
  if (silent_since_[node] >= 0) return;  // killed while paused: one silence
  for (auto it = draining_.begin(); it != draining_.end();) {
    if (it->node == node) {
      ++undrained_;
      it = draining_.erase(it);
    } else {
      ++it;
    }
  }
  silent_since_[node] = w.now();
  ++silences_;
  // Pairs observing a node that just went silent are void (the observer's
  // view stops with it).
  open_.erase(std::remove_if(open_.begin(), open_.end(),
                             [node](const Pair& p) { return p.observer == node; }),
              open_.end());
  for (int o = 0; o < cluster_->size(); ++o) {
    if (o == node || !cluster_->up(o) || cluster_->paused(o)) continue;
    const Gossiper* g = cluster_->service(o)->gossiper();
    if (g == nullptr || !g->IsUp(cluster_->id(node))) continue;
    open_.push_back(Pair{node, o, w.now(), cluster_->disturbances(o)});
  }
  if (!open_.empty() && timer_ == 0) timer_ = w.queue().After(poll_us_, [this] { Poll(); });
}

void DetectionProbe::EndSilence(int node) {
  int64_t since = silent_since_[node];
  if (since < 0) return;
  silent_since_[node] = -1;
  int64_t lasted = cluster_->world().now() - since;
  for (auto it = open_.begin(); it != open_.end();) {
    if (it->node != node) {
      ++it;
      continue;
    }
    ++returned_first_;
    if (lasted > BoundUs() && late_.size() < 1000) {
      late_.push_back(cluster_->id(it->observer) + " never marked " + cluster_->id(node) +
                      " down in a silence of " + std::to_string(lasted / 1000) + " ms");
    }
    it = open_.erase(it);
  }
}

void DetectionProbe::Poll() {
  timer_ = 0;
  int64_t now = cluster_->world().now();
  for (auto it = open_.begin(); it != open_.end();) {
    const Pair& p = *it;
    if (!cluster_->up(p.observer) || cluster_->disturbances(p.observer) != p.observer_disturbances) {
      it = open_.erase(it);
      continue;
    }
    const Gossiper* g = cluster_->service(p.observer)->gossiper();
    if (g != nullptr && !g->IsUp(cluster_->id(p.node))) {
      int64_t took = now - p.since_us;
      samples_.push_back(took);
      if (took > BoundUs() && late_.size() < 1000) {
        late_.push_back(cluster_->id(p.observer) + " marked " + cluster_->id(p.node) +
                        " down only after " + std::to_string(took / 1000) + " ms");
      }
      it = open_.erase(it);
      continue;
    }
    ++it;
  }
  for (auto it = draining_.begin(); it != draining_.end();) {
    if (HintsFor(it->node) == 0) {
      drains_.push_back(now - it->since_us);
      it = draining_.erase(it);
    } else {
      ++it;
    }
  }
  if ((!open_.empty() || !draining_.empty()) && !closed_) {
    timer_ = cluster_->world().queue().After(poll_us_, [this] { Poll(); });
  }
}

uint64_t DetectionProbe::HintsFor(int node) const {
  uint64_t total = 0;
  for (int i = 0; i < cluster_->size(); ++i) {
    if (!cluster_->up(i)) continue;
    const auto& counts = cluster_->service(i)->HintCounts();
    auto it = counts.find(cluster_->id(node));
    if (it != counts.end()) total += it->second;
  }
  return total;
}

void DetectionProbe::Close() {
  if (closed_) return;
  for (int i = 0; i < cluster_->size(); ++i) EndSilence(i);
  undrained_ += draining_.size();
  draining_.clear();
  closed_ = true;
  if (timer_) cluster_->world().queue().Cancel(timer_);
  timer_ = 0;
}

namespace {

// "min a median b max c" in seconds over `v`.
std::string Spread(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  char buf[96];
  std::snprintf(buf, sizeof(buf), "min %.2fs median %.2fs max %.2fs", v.front() / 1e6,
                v[v.size() / 2] / 1e6, v.back() / 1e6);
  return buf;
}

}  // namespace

std::string DetectionProbe::Summary() const {
  if (samples_.empty() && silences_ == 0) return "";
  std::string drains;
  if (!drains_.empty() || undrained_ > 0) {
    drains = "hints for a returning node drained: " + std::to_string(drains_.size()) +
             " returns" + (drains_.empty() ? std::string() : ", " + Spread(drains_)) + "; " +
             std::to_string(undrained_) + " not drained before its next silence or the heal\n";
  }
  std::vector<int64_t> s = samples_;
  std::sort(s.begin(), s.end());
  const GossipOptions& g = cluster_->options().gossip;
  char buf[320];
  if (s.empty()) {
    std::snprintf(buf, sizeof(buf),
                  "detection (gossip %lld ms, phi %.1f): %llu silences, none detected "
                  "(%llu observer pairs ended first)\n",
                  static_cast<long long>(g.interval_us / 1000), g.phi_threshold,
                  static_cast<unsigned long long>(silences_),
                  static_cast<unsigned long long>(returned_first_));
    return buf + drains;
  }
  double sum = 0;
  for (int64_t v : s) sum += v;
  std::snprintf(buf, sizeof(buf),
                "detection (gossip %lld ms, phi %.1f): %zu marks over %llu silences: "
                "min %.2fs median %.2fs mean %.2fs max %.2fs (bound %.2fs); "
                "%llu observer pairs ended first\n",
                static_cast<long long>(g.interval_us / 1000), g.phi_threshold, s.size(),
                static_cast<unsigned long long>(silences_), s.front() / 1e6,
                s[s.size() / 2] / 1e6, sum / s.size() / 1e6, s.back() / 1e6, BoundUs() / 1e6,
                static_cast<unsigned long long>(returned_first_));
  return buf + drains;
}

CheckResult DetectionProbe::Check() const {
  CheckResult r;
  r.name = "detection";
  r.checked = samples_.size() + returned_first_;
  for (const std::string& e : late_) r.Fail(e);
  return r;
}

}  // namespace ringkv::sim
