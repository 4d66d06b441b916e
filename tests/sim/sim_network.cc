#include "tests/sim/sim_network.h"

#include <algorithm>
#include <utility>

#include "common/hash.h"

namespace ringkv::sim {

class SimNetwork::Endpoint : public Transport {
 public:
  Endpoint(SimNetwork* net, int self) : net_(net), self_(self) {}
  void Send(const NodeId& to, std::string bytes) override {
    int dst = net_->IndexOf(to);
    if (dst < 0) {
      ++net_->stats_.unknown;
      return;
    }
    net_->Send(self_, dst, std::move(bytes));
  }

 private:
  SimNetwork* net_;
  int self_;
};

SimNetwork::SimNetwork(SimWorld* world, std::vector<SimProcess*> processes,
                       std::vector<NodeId> ids, LinkProfile profile)
    : world_(world),
      processes_(std::move(processes)),
      ids_(std::move(ids)),
      random_(world->DeriveSeed()),
      default_profile_(profile),
      cut_(ids_.size() * ids_.size(), 0) {
  for (int i = 0; i < static_cast<int>(ids_.size()); ++i) {
    index_[ids_[i]] = i;
    transports_.push_back(std::make_unique<Endpoint>(this, i));
  }
}

int SimNetwork::IndexOf(const NodeId& id) const {
  auto it = index_.find(id);
  return it == index_.end() ? -1 : it->second;
}

const LinkProfile& SimNetwork::ProfileFor(int from, int to) const {
  if (!link_profiles_.empty()) {
    auto it = link_profiles_.find(static_cast<uint64_t>(from) << 32 | static_cast<uint32_t>(to));
    if (it != link_profiles_.end()) return it->second;
  }
  return default_profile_;
}

void SimNetwork::SetLinkProfile(int from, int to, const LinkProfile& p) {
  link_profiles_[static_cast<uint64_t>(from) << 32 | static_cast<uint32_t>(to)] = p;
}

int64_t SimNetwork::SampleLatency(const LinkProfile& p) {
  int64_t span = p.max_latency_us - p.min_latency_us;
  int64_t d = p.min_latency_us + (span > 0 ? static_cast<int64_t>(random_.Uniform(span + 1)) : 0);
  if (p.tail_probability > 0 && random_.NextDouble() < p.tail_probability) {
    d += static_cast<int64_t>(random_.Uniform(p.tail_latency_us + 1));
  }
  if (p.reorder > 0 && random_.NextDouble() < p.reorder) {
    d += static_cast<int64_t>(random_.Uniform(p.reorder_delay_us + 1));
  }
  return d;
}

void SimNetwork::Send(int from, int to, std::string bytes) {
  uint64_t hash = Hash64(bytes);
  ++stats_.sent;
  stats_.bytes += bytes.size();
  world_->trace().Record(world_->now(), "send", from, hash ^ static_cast<uint64_t>(to));
  if (IsCut(from, to)) {
    ++stats_.cut;
    return;
  }
  const LinkProfile& p = ProfileFor(from, to);
  if (p.loss > 0 && random_.NextDouble() < p.loss) {
    ++stats_.lost;
    return;
  }
  // A busy sender (slow disk) really sends when its loop is free again.
  int64_t base = processes_[from]->BusyDelay();
  bool dup = p.duplicate > 0 && random_.NextDouble() < p.duplicate;
  if (dup) {
    ++stats_.duplicated;
    Schedule(from, to, base + SampleLatency(p), bytes, hash);
  }
  Schedule(from, to, base + SampleLatency(p), std::move(bytes), hash);
}

void SimNetwork::Schedule(int from, int to, int64_t delay, std::string bytes, uint64_t hash) {
  processes_[to]->Post(delay, "deliver", hash,
                       [this, from, to, bytes = std::move(bytes)]() mutable {
                         if (IsCut(from, to)) {
                           ++stats_.cut;
                           return;
                         }
                         ++stats_.delivered;
                         if (deliver_) deliver_(from, to, std::move(bytes));
                       });
}

void SimNetwork::Cut(int from, int to) {
  if (from == to) return;
  uint8_t& c = cut_[static_cast<size_t>(from) * ids_.size() + to];
  if (c == 0) {
    c = 1;
    ++cut_count_;
    world_->trace().Record(world_->now(), "cut", from, static_cast<uint64_t>(to));
  }
}

void SimNetwork::Heal(int from, int to) {
  uint8_t& c = cut_[static_cast<size_t>(from) * ids_.size() + to];
  if (c != 0) {
    c = 0;
    --cut_count_;
    world_->trace().Record(world_->now(), "heal", from, static_cast<uint64_t>(to));
  }
}

void SimNetwork::Isolate(int node) {
  for (int i = 0; i < size(); ++i) CutBoth(node, i);
}

void SimNetwork::Split(const std::vector<std::vector<int>>& groups) {
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t h = 0; h < groups.size(); ++h) {
      if (g == h) continue;
      for (int a : groups[g]) {
        for (int b : groups[h]) Cut(a, b);
      }
    }
  }
}

void SimNetwork::HealAll() {
  if (cut_count_ == 0) return;
  std::fill(cut_.begin(), cut_.end(), 0);
  cut_count_ = 0;
  world_->trace().Record(world_->now(), "heal-all", -1, 0);
}

}  // namespace ringkv::sim
