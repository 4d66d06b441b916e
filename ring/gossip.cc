#include "ring/gossip.h"

#include <algorithm>
#include <cmath>
#include <utility>


namespace ringkv {

namespace {

FailureDetectorOptions DetectorOptionsFor(const GossipOptions& o) {
  FailureDetectorOptions d;
  d.expected_interval_us = std::max<int64_t>(1, o.interval_us);
  return d;
}

}  // namespace

Gossiper::Gossiper(NodeId self, uint64_t generation, std::vector<NodeId> members,
                   GossipOptions options, Clock* clock, Scheduler* scheduler,
                   PeerRpc* rpc, Random* random)
    : self_(std::move(self)),
      generation_(generation),
      options_(options),
      clock_(clock),
      scheduler_(scheduler),
      rpc_(rpc),
      random_(random),
      detector_(DetectorOptionsFor(options)) {
  options_.interval_us = std::max<int64_t>(1, options_.interval_us);
  for (NodeId& m : members) {
    if (!IsMember(m)) members_.push_back(std::move(m));
  }
  if (!IsMember(self_)) members_.push_back(self_);
  heartbeats_[self_] = Heartbeat{self_, generation_, 0};
  for (const NodeId& m : members_) {
    if (m != self_) marked_up_[m] = true;
  }
  start_us_ = clock_->MonoMicros();
}

Gossiper::~Gossiper() { Stop(); }

void Gossiper::SetMembers(std::vector<NodeId> members) {
  std::vector<NodeId> next;
  for (NodeId& m : members) {
    if (std::find(next.begin(), next.end(), m) == next.end()) next.push_back(std::move(m));
  }
  if (std::find(next.begin(), next.end(), self_) == next.end()) next.push_back(self_);
  for (const NodeId& m : members_) {
    if (std::find(next.begin(), next.end(), m) != next.end()) continue;
    heartbeats_.erase(m);
    marked_up_.erase(m);
    added_us_.erase(m);
    ring_epochs_.erase(m);
    detector_.Remove(m);
  }
  const int64_t now = clock_->MonoMicros();
  for (const NodeId& m : next) {
    if (IsMember(m)) continue;
    marked_up_[m] = true;
    added_us_[m] = now;
  }
  members_ = std::move(next);
}

bool Gossiper::IsMember(const NodeId& node) const {
  return std::find(members_.begin(), members_.end(), node) != members_.end();
}

void Gossiper::Start() {
  if (running_) return;
  running_ = true;
  start_us_ = clock_->MonoMicros();
  // A random first delay spreads the rounds of nodes started together.
  ScheduleRound(static_cast<int64_t>(random_->Uniform(static_cast<uint64_t>(options_.interval_us))));
}

void Gossiper::Stop() {
  if (!running_) return;
  running_ = false;
  scheduler_->Cancel(timer_);
  timer_ = 0;
}

void Gossiper::ScheduleRound(int64_t delay_us) {
  timer_ = scheduler_->RunAfter(delay_us, [this] {
    timer_ = 0;
    if (!running_) return;
    Round();
    int64_t jitter_span = options_.interval_us / 5;
    int64_t delay = options_.interval_us - options_.interval_us / 10;
    if (jitter_span > 0) {
      delay += static_cast<int64_t>(random_->Uniform(static_cast<uint64_t>(jitter_span) + 1));
    }
    ScheduleRound(std::max<int64_t>(1, delay));
  });
}

void Gossiper::Round() {
  ++rounds_;
  ++heartbeats_[self_].version;
  heartbeats_[self_].ring_epoch = ring_epoch_;
  for (const NodeId& m : members_) {
    if (m != self_) RefreshMark(m);
  }
  std::vector<NodeId> up = UpPeers();
  std::vector<NodeId> down = DownPeers();
  size_t picks = std::min<size_t>(options_.fanout, up.size());
  // Partial Fisher-Yates: the first `picks` entries become a uniform sample.
  for (size_t i = 0; i < picks; ++i) {
    size_t j = i + random_->Uniform(up.size() - i);
    std::swap(up[i], up[j]);
    SendTo(up[i]);
  }
  if (!down.empty()) {
    double p = static_cast<double>(down.size()) / static_cast<double>(up.size() + 1);
    if (random_->NextDouble() < p) SendTo(down[random_->Uniform(down.size())]);
  }
}

void Gossiper::SendTo(const NodeId& to) {
  Gossip g;
  g.ring_epoch = ring_epoch_;
  g.ring_state = ring_state_;
  g.heartbeats.reserve(heartbeats_.size());
  for (const auto& [node, hb] : heartbeats_) g.heartbeats.push_back(hb);
  // Also what keeps every peer's estimate of our clock fresh, about once a
  // second (proto/message_age.h).
  rpc_->Post(to, std::move(g));
}

void Gossiper::OnGossip(const NodeId& from, const Gossip& gossip) {
  ring_epoch_seen_ = std::max(ring_epoch_seen_, gossip.ring_epoch);
  if (IsMember(from)) ring_epochs_[from] = gossip.ring_epoch;
  if (on_ring_state_ && !gossip.ring_state.empty() && gossip.ring_epoch > ring_epoch_) {
    on_ring_state_(from, gossip.ring_state);
  }
  int64_t now = clock_->MonoMicros();
  for (const Heartbeat& hb : gossip.heartbeats) {
    if (hb.node == self_ || !IsMember(hb.node)) continue;
    auto it = heartbeats_.find(hb.node);
    const bool newer = it == heartbeats_.end() ||
                       std::pair(hb.generation, hb.version) >
                           std::pair(it->second.generation, it->second.version);
    const bool contradicted =
        !newer && hb.node == from &&
        (it->second.generation > hb.generation ||
         (it->second.generation == hb.generation &&
          it->second.version - hb.version > kMaxVersionLead));
    if (!newer && !contradicted) continue;
    // Judge the peer as it stood before this arrival, so that a peer whose
    // phi crossed the threshold since the last round still counts as a
    // down->up transition.
    RefreshMark(hb.node);
    // The arrivals timed against the false record say nothing of the node.
    if (contradicted) detector_.Remove(hb.node);
    heartbeats_[hb.node] = hb;
    // Relayed, a member's epoch reaches everyone in a few rounds; heard
    // only from the member itself, it would take a node about N/fanout
    // rounds per member to hear from all of them.
    if (hb.node != from && hb.ring_epoch != 0) ring_epochs_[hb.node] = hb.ring_epoch;
    detector_.Report(hb.node, hb.generation, now);
    bool& up = marked_up_[hb.node];
    if (!up && IsUp(hb.node)) {
      up = true;
      if (on_up_) on_up_(hb.node);
    }
  }
}

void Gossiper::RefreshMark(const NodeId& node) {
  bool& up = marked_up_[node];
  bool now_up = IsUp(node);
  if (up && !now_up) {
    up = false;
    if (on_down_) on_down_(node);
  }
}

double Gossiper::Phi(const NodeId& node) const {
  if (node == self_) return 0;
  int64_t now = clock_->MonoMicros();
  if (detector_.Known(node)) return detector_.Phi(node, now);
  auto added = added_us_.find(node);
  const int64_t since = added == added_us_.end() ? start_us_ : added->second;
  return FailureDetector::PhiOf(now - since, static_cast<double>(options_.interval_us));
}

bool Gossiper::IsUp(const NodeId& node) const {
  if (node == self_) return true;
  return Phi(node) < options_.phi_threshold;
}

bool Gossiper::HeardAlive(const NodeId& node) const {
  return node == self_ || detector_.Samples(node) > 0;
}

std::vector<PeerState> Gossiper::View() const {
  std::vector<PeerState> view;
  view.reserve(members_.size());
  for (const NodeId& m : members_) view.push_back(PeerState{m, IsUp(m), Phi(m)});
  return view;
}

std::vector<NodeId> Gossiper::UpPeers() const {
  std::vector<NodeId> out;
  for (const NodeId& m : members_) {
    if (m != self_ && IsUp(m)) out.push_back(m);
  }
  return out;
}

std::vector<NodeId> Gossiper::DownPeers() const {
  std::vector<NodeId> out;
  for (const NodeId& m : members_) {
    if (m != self_ && !IsUp(m)) out.push_back(m);
  }
  return out;
}

int64_t Gossiper::DetectionSilenceUs(double mean_us) const {
  return FailureDetector::SilenceForPhi(options_.phi_threshold, mean_us);
}

int64_t Gossiper::ExpectedDetectionUs() const {
  return DetectionSilenceUs(static_cast<double>(options_.interval_us));
}

int64_t Gossiper::MaxDetectionUs() const {
  return DetectionSilenceUs(static_cast<double>(detector_.options().max_interval_us));
}

std::optional<int64_t> Gossiper::ConvictionTime(const NodeId& node) const {
  if (node == self_) return std::nullopt;
  return detector_.ConvictionTime(node, options_.phi_threshold);
}

}  // namespace ringkv
