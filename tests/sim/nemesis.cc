#include "tests/sim/nemesis.h"

#include <algorithm>

namespace ringkv::sim {

Nemesis::Nemesis(SimCluster* cluster, NemesisOptions options, Buggify* buggify)
    : cluster_(cluster),
      options_(options),
      buggify_(buggify),
      random_(cluster->world().DeriveSeed()),
      faulty_(cluster->size(), false),
      calm_(cluster->network().default_profile()) {
  if (options_.crash) kinds_.push_back(kCrash);
  if (options_.power_loss) kinds_.push_back(kPowerLoss);
  if (options_.wipe) kinds_.push_back(kWipe);
  if (options_.pause) kinds_.push_back(kPause);
  if (options_.partition) kinds_.push_back(kPartition);
  if (options_.clock_jump) kinds_.push_back(kClock);
  if (options_.disk_full) kinds_.push_back(kDiskFull);
  if (options_.slow_disk) kinds_.push_back(kSlowDisk);
  if (options_.link_chaos) kinds_.push_back(kLinks);
}

void Nemesis::Note(const std::string& what) {
  SimWorld& w = cluster_->world();
  w.trace().Note(w.now(), "nemesis", -1, what);
  if (log_.size() < 200) log_.push_back(std::to_string(w.now() / 1e6) + "s " + what);
}

void Nemesis::Start() {
  if (kinds_.empty()) return;
  cluster_->world().queue().At(options_.start_us, [this] { Tick(); });
}

int64_t Nemesis::Duration() {
  int64_t span = options_.max_duration_us - options_.min_duration_us;
  return options_.min_duration_us + static_cast<int64_t>(random_.Uniform(span + 1));
}

void Nemesis::Tick() {
  SimWorld& w = cluster_->world();
  if (w.now() >= options_.end_us) return;
  Inject(kinds_[random_.Uniform(kinds_.size())]);
  int64_t span = options_.max_gap_us - options_.min_gap_us;
  w.queue().After(options_.min_gap_us + static_cast<int64_t>(random_.Uniform(span + 1)),
                  [this] { Tick(); });
}

int Nemesis::PickHealthyNode() {
  int limit = options_.max_faulty + (buggify_->Fire("nemesis.extra_fault", 0.3) ? 1 : 0);
  if (faulty_count_ >= limit) return -1;
  int n = cluster_->size();
  int start = static_cast<int>(random_.Uniform(n));
  for (int k = 0; k < n; ++k) {
    int i = (start + k) % n;
    if (!faulty_[i] && cluster_->up(i)) return i;
  }
  return -1;
}

void Nemesis::Inject(Kind kind) {
  SimWorld& w = cluster_->world();
  auto until = w.now() + Duration();
  // Faults that make one node faulty until `heal` runs.
  auto node_fault = [&](const std::string& what, auto apply, auto heal) {
    int i = PickHealthyNode();
    if (i < 0) return;
    faulty_[i] = true;
    ++faulty_count_;
    ++faults_;
    Note(what + " " + cluster_->id(i));
    apply(i);
    w.queue().At(until, [this, i, what, heal] {
      if (!faulty_[i]) return;  // HealAll got there first
      heal(i);
      faulty_[i] = false;
      --faulty_count_;
      Note("end " + what + " " + cluster_->id(i));
    });
  };
  switch (kind) {
    case kCrash:
      node_fault("crash", [this](int i) { cluster_->Kill(i, false); },
                 [this](int i) { cluster_->Restart(i); });
      break;
    case kPowerLoss:
      node_fault("power-loss", [this](int i) { cluster_->Kill(i, true); },
                 [this](int i) { cluster_->Restart(i); });
      break;
    case kWipe:
      if (wipes_ >= options_.max_wipes) break;
      node_fault("wipe", [this](int i) {
        ++wipes_;
        cluster_->Kill(i, true);
        cluster_->Wipe(i);
      }, [this](int i) { cluster_->Restart(i); });
      break;
    case kPause:
      node_fault("pause", [this](int i) { cluster_->Pause(i); },
                 [this](int i) { cluster_->Resume(i); });
      break;
    case kDiskFull:
      node_fault("disk-full", [this](int i) {
        DiskFaults f;
        f.full = true;
        cluster_->SetDiskFaults(i, f);
      }, [this](int i) { cluster_->SetDiskFaults(i, {}); });
      break;
    case kSlowDisk:
      node_fault("slow-disk", [this](int i) {
        DiskFaults f;
        f.write_latency_us = 1000 + static_cast<int64_t>(random_.Uniform(20'000));
        f.sync_latency_us = static_cast<int64_t>(random_.Uniform(50'000));
        cluster_->SetDiskFaults(i, f);
      }, [this](int i) { cluster_->SetDiskFaults(i, {}); });
      break;
    case kClock: {
      int i = static_cast<int>(random_.Uniform(cluster_->size()));
      int64_t jump = static_cast<int64_t>(random_.Uniform(2 * options_.max_clock_jump_us + 1)) -
                     options_.max_clock_jump_us;
      cluster_->clock(i).set_wall_offset_us(cluster_->clock(i).wall_offset_us() + jump);
      ++faults_;
      Note("clock-jump " + cluster_->id(i) + " " + std::to_string(jump) + "us");
      break;
    }
    case kPartition:
      if (partitioned_) break;
      Partition();
      w.queue().At(until, [this] {
        if (!partitioned_) return;
        partitioned_ = false;
        cluster_->network().HealAll();
        Note("heal partition");
      });
      break;
    case kLinks: {
      if (links_bad_) break;
      links_bad_ = true;
      ++faults_;
      LinkProfile p = calm_;
      p.loss = random_.NextDouble() * 0.2;
      p.duplicate = random_.NextDouble() * 0.1;
      p.reorder = random_.NextDouble() * 0.3;
      p.tail_probability = 0.02;
      p.tail_latency_us = buggify_->Fire("net.huge_tail", 0.5) ? 2'000'000 : 100'000;
      cluster_->network().set_default_profile(p);
      Note("lossy links loss=" + std::to_string(p.loss));
      w.queue().At(until, [this] {
        if (!links_bad_) return;
        links_bad_ = false;
        cluster_->network().set_default_profile(calm_);
        Note("calm links");
      });
      break;
    }
  }
}

void Nemesis::Partition() {
  SimNetwork& net = cluster_->network();
  SimWorld& w = cluster_->world();
  int n = cluster_->size();
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  for (int i = n - 1; i > 0; --i) std::swap(order[i], order[random_.Uniform(i + 1)]);
  partitioned_ = true;
  ++faults_;
  switch (random_.Uniform(5)) {
    case 0: {  // halves
      int cut = 1 + static_cast<int>(random_.Uniform(n - 1));
      net.Split({std::vector<int>(order.begin(), order.begin() + cut),
                 std::vector<int>(order.begin() + cut, order.end())});
      Note("partition halves at " + std::to_string(cut));
      break;
    }
    case 1:  // isolate one
      net.Isolate(order[0]);
      Note("partition isolate " + cluster_->id(order[0]));
      break;
    case 2: {  // one-way: a node can send but not hear (or the reverse)
      bool inbound = random_.OneIn(2);
      for (int j = 0; j < n; ++j) {
        if (inbound) {
          net.Cut(j, order[0]);
        } else {
          net.Cut(order[0], j);
        }
      }
      Note(std::string("partition one-way ") + (inbound ? "into " : "out of ") +
           cluster_->id(order[0]));
      break;
    }
    case 3: {  // bridge: two sides that only one node connects
      if (n < 3) {
        net.Isolate(order[0]);
        break;
      }
      int cut = 1 + static_cast<int>(random_.Uniform(n - 2));
      net.Split({std::vector<int>(order.begin() + 1, order.begin() + 1 + cut),
                 std::vector<int>(order.begin() + 1 + cut, order.end())});
      Note("partition bridge via " + cluster_->id(order[0]));
      break;
    }
    default: {  // swizzle: isolate nodes one by one, heal them in another order
      int k = 1 + static_cast<int>(random_.Uniform(std::max(1, n / 2)));
      std::vector<int> victims(order.begin(), order.begin() + k);
      Note("partition swizzle of " + std::to_string(k));
      for (int j = 0; j < k; ++j) {
        w.queue().After(j * 100'000, [this, v = victims[j]] {
          if (partitioned_) cluster_->network().Isolate(v);
        });
      }
      std::vector<int> heal = victims;
      for (int i = k - 1; i > 0; --i) std::swap(heal[i], heal[random_.Uniform(i + 1)]);
      for (int j = 0; j < k; ++j) {
        w.queue().After(k * 100'000 + 300'000 + j * 100'000, [this, v = heal[j]] {
          if (!partitioned_) return;
          for (int o = 0; o < cluster_->size(); ++o) {
            cluster_->network().Heal(v, o);
            cluster_->network().Heal(o, v);
          }
        });
      }
      break;
    }
  }
}

void Nemesis::HealAll() {
  Note("heal all");
  partitioned_ = false;
  links_bad_ = false;
  cluster_->network().HealAll();
  cluster_->network().set_default_profile(calm_);
  cluster_->network().ClearLinkProfiles();
  for (int i = 0; i < cluster_->size(); ++i) {
    if (cluster_->paused(i)) cluster_->Resume(i);
    if (!cluster_->up(i)) cluster_->Restart(i);
    cluster_->SetDiskFaults(i, {});
    faulty_[i] = false;
  }
  faulty_count_ = 0;
}

}  // namespace ringkv::sim
