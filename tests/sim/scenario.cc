#include "tests/sim/scenario.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "causality/object_codec.h"
#include "common/hash.h"
#include "ring/gossip.h"
#include "tests/sim/buggify.h"
#include "tests/sim/detection.h"
#include "tests/sim/nemesis.h"
#include "tests/sim/workload.h"

namespace ringkv::sim {
namespace {

constexpr int64_t kSecond = 1'000'000;

struct Spec {
  ClusterOptions cluster;
  std::vector<WorkloadOptions> workloads;
  NemesisOptions nemesis;
  std::vector<std::string> lww_buckets;
  int64_t fault_end_us = 10 * kSecond;
  bool buggify = false;
  // Scripted scenarios (availability, siblings) run this instead of the
  // random workload, and add their own checks.
  std::function<std::shared_ptr<void>(SimCluster*, History*, CheckResult*)> script;
  // Scripted faults next to the workload (handoff-restart, detect-default),
  // with their own check named `faults_check`.
  std::function<void(SimCluster*, Random*, CheckResult*)> faults;
  std::string faults_check;
  // Failure handling. With handoff checks the run waits for every node's
  // hints to drain and checks handoff-complete on the write-only bucket
  // "h" before the read-repair pass; every scenario checks hints-drained.
  bool handoff_checks = false;
  int64_t drain_bound_us = 30 * kSecond;
  bool measure_detection = false;
};

BucketTable DefaultBuckets() {
  BucketTable t(BucketProps{3, 2, 2, ResolverKind::kSiblings});
  t.Set("lww", BucketProps{3, 2, 2, ResolverKind::kLww});
  // Written only by blind puts, each to a fresh key, and never read before
  // the checkers: what reaches a replica of it got there by the put itself
  // or by hinted handoff (a later put would carry earlier siblings along).
  t.Set("h", BucketProps{3, 2, 2, ResolverKind::kSiblings});
  return t;
}

WorkloadOptions BlindWrites(int64_t end_us) {
  WorkloadOptions w;
  w.bucket = "h";
  w.end_us = end_us;
  w.clients = 2;
  w.fresh_keys = true;
  w.max_think_us = 60'000;
  w.put_pct = 100;
  w.rmw_pct = 0;
  w.delete_pct = 0;
  return w;
}

WorkloadOptions Workload(const std::string& bucket, int64_t end_us) {
  WorkloadOptions w;
  w.bucket = bucket;
  w.end_us = end_us;
  return w;
}

// ---------------------------------------------------------------- availability
//
// Rounds of a static fault configuration (nodes down, paused, links cut; no
// loss, latency far below the timeout): each request must succeed exactly
// when its coordinator reaches enough primaries, and otherwise fail with
// Unavailable or Timeout by its deadline.
struct AvailabilityScript {
  SimCluster* c;
  History* h;
  CheckResult* out;
  Random random;
  Client client;
  int round = 0;
  static constexpr int kRounds = 10;
  static constexpr uint32_t kTimeoutMs = 400;

  AvailabilityScript(SimCluster* cluster, History* history, CheckResult* result)
      : c(cluster), h(history), out(result), random(cluster->world().DeriveSeed()),
        client(cluster, history, 100) {}

  bool Reaches(int coord, int p) const {
    if (p == coord) return true;
    return c->up(p) && !c->paused(p) && !c->network().IsCut(coord, p) &&
           !c->network().IsCut(p, coord);
  }

  bool BelievedUp(int coord, int i) const {
    const Gossiper* g = c->service(coord)->gossiper();
    return g == nullptr || g->IsUp(c->id(i));
  }

  // Replicas a get can hear from: primaries believed up and reachable.
  int GetAnswers(int coord, const std::vector<int>& prim) const {
    int n = 0;
    for (int p : prim) n += (p == coord || (BelievedUp(coord, p) && Reaches(coord, p))) ? 1 : 0;
    return n;
  }

  // Acknowledgements a put coordinated by primary `coord` can collect under
  // sloppy quorum: itself, reachable primaries, and for every other primary
  // (believed down at once, or silent at half the deadline) the next
  // fallback in walk order believed up, if reachable.
  int PutAcks(int coord, const std::string& key) const {
    Placement pl = c->ring().PlacementFor(KeyHash("b", key), 3);
    std::vector<int> fallbacks;
    for (const NodeId& f : pl.fallbacks) {
      int i = c->IndexOf(f);
      if (i != coord && BelievedUp(coord, i)) fallbacks.push_back(i);
    }
    size_t next = 0;
    int acks = 1;
    std::vector<int> silent;
    for (const NodeId& pid : pl.primaries) {
      int p = c->IndexOf(pid);
      if (p == coord) continue;
      if (!BelievedUp(coord, p)) {
        if (next < fallbacks.size()) acks += Reaches(coord, fallbacks[next++]) ? 1 : 0;
      } else if (Reaches(coord, p)) {
        ++acks;
      } else {
        silent.push_back(p);
      }
    }
    for (size_t k = 0; k < silent.size() && next < fallbacks.size(); ++k) {
      acks += Reaches(coord, fallbacks[next++]) ? 1 : 0;
    }
    return acks;
  }

  void Round() {
    if (round++ >= kRounds) return;
    SimWorld& w = c->world();
    int n = c->size();
    int down = static_cast<int>(random.Uniform(3));
    for (int k = 0; k < down; ++k) c->Kill(static_cast<int>(random.Uniform(n)), false);
    if (random.OneIn(3)) c->Pause(static_cast<int>(random.Uniform(n)));
    switch (random.Uniform(4)) {
      case 0: c->network().Isolate(static_cast<int>(random.Uniform(n))); break;
      case 1:
        for (int k = 0; k < 3; ++k) {
          c->network().Cut(static_cast<int>(random.Uniform(n)), static_cast<int>(random.Uniform(n)));
        }
        break;
      default: break;
    }
    w.queue().After(50'000, [this] { Issue(); });
  }

  void Issue() {
    for (int k = 0; k < 30; ++k) {
      std::string key = "a" + std::to_string(random.Uniform(50));
      uint32_t q = 1 + static_cast<uint32_t>(random.Uniform(3));
      std::vector<int> prim = c->Primaries("b", key);
      bool is_put = random.OneIn(2);
      int coord = -1;
      std::vector<int> candidates;
      for (int i = 0; i < c->size(); ++i) {
        bool is_primary = std::find(prim.begin(), prim.end(), i) != prim.end();
        if (c->up(i) && !c->paused(i) && (!is_put || is_primary)) candidates.push_back(i);
      }
      if (candidates.empty()) continue;
      coord = candidates[random.Uniform(candidates.size())];
      int reachable = is_put ? PutAcks(coord, key) : GetAnswers(coord, prim);
      bool expect_ok = reachable >= static_cast<int>(q);
      auto check = [this, expect_ok, reachable, q](const Op& op) {
        ++out->checked;
        bool ok = op.outcome == Outcome::kOk;
        std::string what = DescribeOp(op) + " (" + std::to_string(reachable) +
                           " replicas reachable, quorum " + std::to_string(q) + ")";
        if (expect_ok && !ok) out->Fail("failed although a quorum was reachable: " + what);
        if (!expect_ok && ok) out->Fail("succeeded without a reachable quorum: " + what);
        if (!expect_ok && !ok && !op.status.IsUnavailable() && !op.status.IsTimeout()) {
          out->Fail("failed with the wrong status: " + what);
        }
      };
      if (is_put) {
        client.Put(coord, "b", key, "av" + std::to_string(h->ops().size()), {}, q, kTimeoutMs,
                   check);
      } else {
        client.Get(coord, "b", key, q, kTimeoutMs, check);
      }
    }
    c->world().queue().After(2 * kTimeoutMs * 1000, [this] {
      c->network().HealAll();
      for (int i = 0; i < c->size(); ++i) {
        if (c->paused(i)) c->Resume(i);
        if (!c->up(i)) c->Restart(i);
      }
      c->world().queue().After(100'000, [this] { Round(); });
    });
  }
};

// ---------------------------------------------------------------- siblings
//
// Concurrent blind writes to one key become siblings (all acknowledged
// values readable); a write carrying the read's context replaces them with
// one value; under LWW concurrent writes leave exactly one value.
struct SiblingsScript {
  SimCluster* c;
  History* h;
  CheckResult* out;
  Random random;
  Client client;
  int next_value = 0;

  SiblingsScript(SimCluster* cluster, History* history, CheckResult* result)
      : c(cluster), h(history), out(result), random(cluster->world().DeriveSeed()),
        client(cluster, history, 200) {}

  int Node() { return static_cast<int>(random.Uniform(c->size())); }

  void Start() {
    for (int k = 0; k < 12; ++k) {
      int64_t t0 = k * 3 * kSecond + 100'000;
      c->world().queue().At(t0, [this, k] { RoundFor("s" + std::to_string(k), k % 3 == 2); });
    }
  }

  void RoundFor(const std::string& key, bool lww) {
    std::string bucket = lww ? "lww" : "b";
    int writers = 2 + static_cast<int>(random.Uniform(3));
    auto acked = std::make_shared<std::vector<std::string>>();
    for (int j = 0; j < writers; ++j) {
      std::string v = "sv" + std::to_string(next_value++);
      uint32_t w = 1 + static_cast<uint32_t>(random.Uniform(3));
      client.Put(Node(), bucket, key, v, {}, w, 500, [acked, v](const Op& op) {
        if (op.outcome == Outcome::kOk) acked->push_back(v);
      });
    }
    c->world().queue().After(kSecond, [this, key, bucket, lww, acked] {
      client.Get(Node(), bucket, key, kQuorumAll, 500, [this, key, bucket, lww, acked](const Op& got) {
        ++out->checked;
        if (got.outcome != Outcome::kOk) {
          out->Fail("read of " + key + " failed on a healthy cluster: " + DescribeOp(got));
          return;
        }
        std::set<std::string> values;
        for (const Sibling* s : got.object.Values()) values.insert(s->value);
        if (lww) {
          if (got.object.siblings.size() != 1) {
            out->Fail("LWW read of " + key + " returned " +
                      std::to_string(got.object.siblings.size()) + " siblings");
          }
        } else {
          for (const std::string& v : *acked) {
            if (!values.count(v)) {
              out->Fail("concurrent acknowledged write " + v + " missing from the siblings of " +
                        key + ": " + DescribeOp(got));
            }
          }
        }
        std::string final_value = "sv" + std::to_string(next_value++);
        client.set_based_on(static_cast<int64_t>(got.id));
        client.Put(Node(), bucket, key, final_value, got.object.context, kQuorumAll, 500,
                   [this, key, bucket, final_value](const Op& put) {
          if (put.outcome != Outcome::kOk) {
            out->Fail("write with context failed on a healthy cluster: " + DescribeOp(put));
            return;
          }
          client.Get(Node(), bucket, key, kQuorumAll, 500, [this, key, final_value](const Op& g) {
            auto vals = g.object.Values();
            if (g.outcome != Outcome::kOk || vals.size() != 1 || vals[0]->value != final_value) {
              out->Fail("a write with the read's context did not leave exactly its value on " +
                        key + ": " + DescribeOp(g) + " with " + std::to_string(vals.size()) +
                        " values");
            }
          });
        });
      });
    });
  }
};

// ---------------------------------------------------------------- handoff-restart
//
// Kills a target node, lets hints for it pile up on the others, then
// power-cycles the node holding most of them (a fallback on 5 nodes, a
// coordinator on 3): the hints it loads at restart must be exactly the ones
// it held. The target comes back either while that holder is still down or
// after it restarted; the run's hints-drained and handoff-complete checks
// then prove the reloaded hints were delivered.
void HolderRestart(SimCluster* c, Random* random, CheckResult* out) {
  int n = c->size();
  int target = static_cast<int>(random->Uniform(n));
  int64_t down_at = kSecond + static_cast<int64_t>(random->Uniform(2 * kSecond));
  int64_t holder_at = down_at + 6 * kSecond + static_cast<int64_t>(random->Uniform(3 * kSecond));
  int64_t holder_back = holder_at + kSecond + static_cast<int64_t>(random->Uniform(3 * kSecond));
  bool target_first = random->OneIn(2);
  int64_t target_back = target_first ? (holder_at + holder_back) / 2
                                     : holder_back + kSecond +
                                           static_cast<int64_t>(random->Uniform(2 * kSecond));
  SimWorld& w = c->world();
  w.queue().At(down_at, [c, target] { c->Kill(target, false); });
  auto held = std::make_shared<std::map<NodeId, uint64_t>>();
  auto holder = std::make_shared<int>(-1);
  w.queue().At(holder_at, [c, target, held, holder] {
    uint64_t most = 0;
    for (int i = 0; i < c->size(); ++i) {
      if (i == target || !c->up(i)) continue;
      auto it = c->service(i)->HintCounts().find(c->id(target));
      uint64_t count = it == c->service(i)->HintCounts().end() ? 0 : it->second;
      if (*holder < 0 || count > most) {
        most = count;
        *holder = i;
      }
    }
    if (*holder < 0) return;
    *held = c->service(*holder)->HintCounts();
    c->Kill(*holder, true);
  });
  w.queue().At(holder_back, [c, held, holder, out] {
    if (*holder < 0) return;
    c->Restart(*holder);
    if (held->empty()) return;  // nothing to prove this time
    ++out->checked;
    if (c->service(*holder)->HintCounts() != *held) {
      uint64_t before = 0, after = 0;
      for (const auto& [t, k] : *held) before += k;
      for (const auto& [t, k] : c->service(*holder)->HintCounts()) after += k;
      out->Fail(c->id(*holder) + " held " + std::to_string(before) +
                " hints before its power loss and loaded " + std::to_string(after));
    }
  });
  w.queue().At(target_back, [c, target] { c->Restart(target); });
}

// ---------------------------------------------------------------- detect-default
//
// Default failure detection (1 s gossip, phi 8): a node crashed for 30 s,
// then another paused for 28 s, each longer than the ~18.4 s detection, so
// every peer marks them down, writes go the sloppy way and hints drain
// after each returns.
void DefaultDetection(SimCluster* c, Random* random, CheckResult*) {
  int n = c->size();
  int crashed = static_cast<int>(random->Uniform(n));
  int paused = (crashed + 1 + static_cast<int>(random->Uniform(n - 1))) % n;
  SimWorld& w = c->world();
  w.queue().At(25 * kSecond, [c, crashed] { c->Kill(crashed, false); });
  w.queue().At(55 * kSecond, [c, crashed] { c->Restart(crashed); });
  w.queue().At(60 * kSecond, [c, paused] { c->Pause(paused); });
  w.queue().At(88 * kSecond, [c, paused] { c->Resume(paused); });
}

// Fast failure detection so a run sees nodes marked down: gossip every
// 100-250 ms (per seed), phi 8 (1.8-4.6 s to convict).
void FastGossip(Spec* s, uint64_t seed) {
  Random r(seed ^ 0x5eed'90551bULL);
  s->cluster.gossip.interval_us = 100'000 + static_cast<int64_t>(r.Uniform(151)) * 1000;
  s->cluster.gossip.phi_threshold = 8.0;
}

// A handoff scenario: fast gossip, faults long enough to be detected, the
// write-only bucket "h", hints drained and handoff-complete checked.
void Handoff(Spec* s, uint64_t seed, int64_t end) {
  FastGossip(s, seed);
  s->fault_end_us = end;
  s->workloads.clear();
  s->workloads.push_back(Workload("b", end));
  s->workloads.push_back(BlindWrites(end));
  s->nemesis.end_us = end - 2 * kSecond;
  s->nemesis.min_gap_us = 500'000;
  s->nemesis.max_gap_us = 3 * kSecond;
  s->nemesis.min_duration_us = kSecond;
  s->nemesis.max_duration_us = 8 * kSecond;
  s->handoff_checks = true;
  s->measure_detection = true;
  s->drain_bound_us = 20 * kSecond;
  // One seed in three paces handoff slowly, so a drain takes measurable time.
  Random r(seed ^ 0x41ab'7e00ULL);
  if (r.OneIn(3)) s->cluster.hint_rate_per_sec = 50;
}

Spec MakeSpec(const ScenarioConfig& config) {
  Spec s;
  s.cluster.buckets = DefaultBuckets();
  s.cluster.link.min_latency_us = 100;
  s.cluster.link.max_latency_us = 2000;
  const std::string& name = config.name;
  int64_t end = 10 * kSecond;
  s.fault_end_us = end;
  s.workloads.push_back(Workload("b", end));
  s.nemesis.start_us = 500'000;
  s.nemesis.end_us = end;
  if (name == "basic") {
    s.cluster.link.tail_probability = 0.01;
    s.cluster.link.reorder = 0.05;
  } else if (name == "network") {
    s.nemesis.link_chaos = true;
    s.nemesis.partition = true;
  } else if (name == "crash") {
    s.nemesis.crash = true;
    s.nemesis.power_loss = true;
    s.nemesis.pause = true;
  } else if (name == "wipe") {
    s.nemesis.wipe = true;
    s.nemesis.crash = true;
    s.nemesis.max_wipes = 1;
  } else if (name == "disk") {
    s.nemesis.disk_full = true;
    s.nemesis.slow_disk = true;
    s.nemesis.crash = true;
  } else if (name == "clock") {
    s.cluster.max_clock_offset_us = 1'000'000;
    s.cluster.max_drift_ppm = 200;
    s.nemesis.clock_jump = true;
    s.nemesis.pause = true;
    s.workloads.push_back(Workload("lww", end));
    s.workloads.back().rmw_pct = 0;
    s.workloads.back().delete_pct = 0;
    s.lww_buckets.push_back("lww");
  } else if (name == "chaos") {
    s.buggify = true;
    s.cluster.max_clock_offset_us = 500'000;
    s.cluster.max_drift_ppm = 100;
    s.nemesis.crash = s.nemesis.power_loss = s.nemesis.wipe = s.nemesis.pause = true;
    s.nemesis.partition = s.nemesis.clock_jump = s.nemesis.disk_full = true;
    s.nemesis.slow_disk = s.nemesis.link_chaos = true;
    s.workloads.push_back(Workload("lww", end));
    s.lww_buckets.push_back("lww");
  } else if (name == "large" || name == "huge") {
    bool huge = name == "huge";
    s.cluster.nodes = huge ? 1000 : 120;
    s.cluster.partitions = 1024;
    end = huge ? 4 * kSecond : 6 * kSecond;
    s.fault_end_us = end;
    s.workloads[0] = Workload("b", end);
    s.workloads[0].clients = huge ? 64 : 24;
    s.workloads[0].keys = huge ? 2000 : 400;
    s.nemesis.end_us = end;
    s.nemesis.crash = s.nemesis.partition = s.nemesis.pause = s.nemesis.link_chaos = true;
    s.nemesis.max_faulty = huge ? 20 : 5;
    s.nemesis.min_gap_us = 50'000;
    s.nemesis.max_gap_us = 300'000;
  } else if (name == "handoff-crash") {
    Handoff(&s, config.seed, 20 * kSecond);
    s.nemesis.crash = s.nemesis.power_loss = true;
    s.nemesis.max_faulty = 2;
  } else if (name == "handoff-pause") {
    Handoff(&s, config.seed, 20 * kSecond);
    s.nemesis.pause = true;
    s.nemesis.max_faulty = 2;
  } else if (name == "handoff-partition") {
    Handoff(&s, config.seed, 20 * kSecond);
    s.nemesis.partition = s.nemesis.link_chaos = true;
  } else if (name == "handoff-n3") {
    Handoff(&s, config.seed, 20 * kSecond);
    s.cluster.nodes = 3;
    s.nemesis.crash = s.nemesis.pause = s.nemesis.partition = true;
  } else if (name == "handoff-restart" || name == "handoff-restart-n3") {
    Handoff(&s, config.seed, 22 * kSecond);
    if (name == "handoff-restart-n3") s.cluster.nodes = 3;
    s.faults = HolderRestart;
    s.faults_check = "hints-survive-restart";
  } else if (name == "detect-default") {
    int64_t end_at = 92 * kSecond;
    s.fault_end_us = end_at;
    s.workloads.clear();
    s.workloads.push_back(Workload("b", end_at));
    s.workloads.back().clients = 2;
    s.workloads.back().max_think_us = 200'000;
    s.workloads.push_back(BlindWrites(end_at));
    s.workloads.back().max_think_us = 200'000;
    s.faults = DefaultDetection;
    s.handoff_checks = true;
    s.measure_detection = true;
  } else if (name == "availability") {
    s.workloads.clear();
    s.fault_end_us = 0;
    s.script = [](SimCluster* c, History* h, CheckResult* out) {
      auto script = std::make_shared<AvailabilityScript>(c, h, out);
      c->world().queue().At(100'000, [p = script.get()] { p->Round(); });
      return std::shared_ptr<void>(script);
    };
  } else if (name == "siblings") {
    s.workloads.clear();
    s.fault_end_us = 0;
    s.script = [](SimCluster* c, History* h, CheckResult* out) {
      auto script = std::make_shared<SiblingsScript>(c, h, out);
      script->Start();
      return std::shared_ptr<void>(script);
    };
  }
  if (config.gossip_interval_ms > 0) s.cluster.gossip.interval_us = config.gossip_interval_ms * 1000;
  if (config.phi_threshold > 0) s.cluster.gossip.phi_threshold = config.phi_threshold;
  if (config.hint_rate > 0) s.cluster.hint_rate_per_sec = config.hint_rate;
  if (config.nodes > 0) s.cluster.nodes = config.nodes;
  if (config.partitions > 0) s.cluster.partitions = config.partitions;
  return s;
}

uint64_t PendingHints(SimCluster& cluster) {
  uint64_t total = 0;
  for (int i = 0; i < cluster.size(); ++i) {
    if (!cluster.up(i)) continue;
    for (const auto& [target, count] : cluster.service(i)->HintCounts()) total += count;
  }
  return total;
}

// Runs in 50 ms steps until `until_us`, noting when the cluster last went
// from holding hints to holding none (drain->drained_us).
void TrackDrain(SimWorld& world, SimCluster& cluster, HintDrain* drain, int64_t until_us) {
  while (world.now() < until_us) {
    world.queue().RunUntil(std::min(until_us, world.now() + 50'000));
    bool empty = PendingHints(cluster) == 0;
    if (empty && !drain->drained) drain->drained_us = world.now();
    drain->drained = empty;
  }
}

// Runs until no node holds a hint or the drain bound (from the heal) passes.
void WaitForDrain(SimWorld& world, SimCluster& cluster, HintDrain* drain) {
  int64_t limit = drain->heal_us + drain->bound_us;
  while (!drain->drained && world.now() < limit) {
    TrackDrain(world, cluster, drain, std::min(limit, world.now() + 50'000));
  }
  if (drain->drained) return;
  drain->leftover.clear();
  for (int i = 0; i < cluster.size(); ++i) {
    for (const auto& [target, count] : cluster.service(i)->HintCounts()) {
      if (!drain->leftover.empty()) drain->leftover += ", ";
      drain->leftover += cluster.id(i) + "->" + target + ": " + std::to_string(count);
    }
  }
}

}  // namespace

const std::vector<std::string>& ScenarioNames() {
  static const std::vector<std::string> kNames = {
      "basic", "network", "crash", "wipe", "disk", "clock", "chaos",
      "availability", "siblings", "large", "huge", "handoff-crash", "handoff-pause",
      "handoff-partition", "handoff-n3", "handoff-restart", "handoff-restart-n3",
      "detect-default"};
  return kNames;
}

bool IsScenario(const std::string& name) {
  for (const auto& n : ScenarioNames()) {
    if (n == name) return true;
  }
  return false;
}

std::string ReplayCommand(const ScenarioConfig& config) {
  std::string cmd = "make sim SEED=" + std::to_string(config.seed) + " SCENARIO=" + config.name;
  if (config.nodes > 0 || config.partitions > 0 || config.gossip_interval_ms > 0 ||
      config.phi_threshold > 0 || config.hint_rate > 0) {
    cmd += "  # or: ringkv-sim --seed " + std::to_string(config.seed) + " --scenario " +
           config.name;
    if (config.nodes > 0) cmd += " --nodes " + std::to_string(config.nodes);
    if (config.partitions > 0) cmd += " --partitions " + std::to_string(config.partitions);
    if (config.gossip_interval_ms > 0) {
      cmd += " --gossip-interval-ms " + std::to_string(config.gossip_interval_ms);
    }
    if (config.phi_threshold > 0) cmd += " --phi " + std::to_string(config.phi_threshold);
    if (config.hint_rate > 0) cmd += " --hint-rate " + std::to_string(config.hint_rate);
  }
  return cmd;
}

std::vector<std::string> ScenarioResult::Failed() const {
  std::vector<std::string> out;
  for (const auto& c : checks) {
    if (!c.ok()) out.push_back(c.name);
  }
  return out;
}

std::string ScenarioResult::Summary() const {
  char buf[512];
  double sim_s = sim_us / 1e6;
  std::snprintf(buf, sizeof(buf),
                "ops %llu (ok %llu, fail %llu, info %llu), faults %llu, messages %llu\n"
                "simulated %.1fs in %.2fs wall: %.2f sim-s/s, %.0f events/s (%llu events)\n",
                (unsigned long long)ops, (unsigned long long)ops_ok, (unsigned long long)ops_fail,
                (unsigned long long)ops_info, (unsigned long long)faults,
                (unsigned long long)messages, sim_s, wall_seconds,
                wall_seconds > 0 ? sim_s / wall_seconds : 0.0,
                wall_seconds > 0 ? events / wall_seconds : 0.0, (unsigned long long)events);
  std::string s = buf;
  if (duplicate_applied > 0) {
    s += std::to_string(duplicate_applied) + " acknowledged puts were applied twice\n";
  }
  if (lww_acked > 0) {
    s += "LWW discarded " + std::to_string(lww_discarded) + " of " + std::to_string(lww_acked) +
         " acknowledged writes\n";
  }
  if (!detection.empty()) s += detection;
  if (drain.pending_at_heal > 0 || drain.delivered > 0) {
    s += "hints: " + std::to_string(drain.pending_at_heal) + " pending at the heal, " +
         std::to_string(drain.delivered) + " delivered in the run; ";
    if (drain.drained) {
      char t[64];
      std::snprintf(t, sizeof(t), "drained %.2fs after the heal (bound %.0fs, rate %.0f/s)\n",
                    (drain.drained_us - drain.heal_us) / 1e6, drain.bound_us / 1e6,
                    drain.rate_per_sec);
      s += t;
    } else {
      s += "NOT drained\n";
    }
  }
  if (handoff_excused > 0) {
    s += std::to_string(handoff_excused) +
         " acknowledged writes missing before repair, excused: coordinator crashed before its "
         "deadline\n";
  }
  for (const auto& c : checks) {
    s += "check " + c.name + ": " + (c.ok() ? "ok" : "FAILED") + " (" +
         std::to_string(c.checked) + " checked";
    if (!c.ok()) s += ", " + std::to_string(c.failures) + " failures";
    s += ")\n";
    for (const auto& e : c.errors) s += "  " + e + "\n";
  }
  return s;
}

ScenarioResult RunScenario(const ScenarioConfig& config) {
  auto wall_start = std::chrono::steady_clock::now();
  Spec spec = MakeSpec(config);
  if (config.tweak_cluster) config.tweak_cluster(&spec.cluster);
  SimWorld world(config.seed);
  world.trace().set_sink(config.trace);
  Buggify buggify(world.DeriveSeed(), spec.buggify);
  SimCluster cluster(&world, spec.cluster);
  History history;
  std::vector<std::unique_ptr<ClientWorkload>> workloads;
  for (WorkloadOptions& w : spec.workloads) {
    if (config.tweak_workload) config.tweak_workload(&w);
    workloads.push_back(std::make_unique<ClientWorkload>(&cluster, &history, w));
    workloads.back()->Start();
  }
  std::unique_ptr<DetectionProbe> probe;
  if (spec.measure_detection) probe = std::make_unique<DetectionProbe>(&cluster, 10'000);
  Nemesis nemesis(&cluster, spec.nemesis, &buggify);
  nemesis.Start();
  CheckResult fault_script;
  fault_script.name = spec.faults_check;
  if (spec.faults) {
    Random fault_random(world.DeriveSeed());
    spec.faults(&cluster, &fault_random, &fault_script);
  }
  CheckResult scripted;
  scripted.name = config.name == "availability" ? "availability" : "semantics";
  std::shared_ptr<void> script;
  if (spec.script) script = spec.script(&cluster, &history, &scripted);
  if (config.after_start) config.after_start(&cluster, &history);

  // Faults, then heal and let in-flight requests finish.
  int64_t script_end = spec.script ? 40 * kSecond : 0;
  world.queue().RunUntil(std::max(spec.fault_end_us, script_end));
  if (probe) probe->Close();
  nemesis.HealAll();
  HintDrain drain;
  drain.heal_us = world.now();
  drain.bound_us = spec.drain_bound_us;
  drain.rate_per_sec = spec.cluster.hint_rate_per_sec;
  drain.pending_at_heal = PendingHints(cluster);
  drain.drained = drain.pending_at_heal == 0;
  drain.drained_us = world.now();
  TrackDrain(world, cluster, &drain, world.now() + 3 * kSecond);
  CheckResult complete;
  if (spec.handoff_checks) {
    // Hints first, then what they healed, before any read repairs it.
    WaitForDrain(world, cluster, &drain);
    complete = CheckHandoffComplete(cluster, history, "h");
  }

  // Read-repair pass: a get at R=N of every key touched, then quiet.
  Client repair(&cluster, &history, -1);
  CheckResult healed;
  healed.name = "available-after-heal";
  std::set<std::pair<std::string, std::string>> keys;
  for (const Op& op : history.ops()) keys.insert({op.bucket, op.key});
  Random pick(world.DeriveSeed());
  for (const auto& [bucket, key] : keys) {
    int node = static_cast<int>(pick.Uniform(cluster.size()));
    repair.Get(node, bucket, key, kQuorumAll, 2000, [&healed](const Op& op) {
      ++healed.checked;
      if (op.outcome != Outcome::kOk) healed.Fail("repair read failed: " + DescribeOp(op));
    });
  }
  // Background timers (gossip) never let the queue drain: wait for the
  // repair reads, then long enough for their repair writes to land.
  int64_t limit = world.now() + 20 * kSecond;
  while (healed.checked < keys.size() && world.now() < limit) {
    world.queue().RunUntil(world.now() + 100'000);
  }
  if (spec.handoff_checks) {
    world.queue().RunUntil(world.now() + kSecond);
  } else {
    TrackDrain(world, cluster, &drain, world.now() + kSecond);
    WaitForDrain(world, cluster, &drain);
  }
  for (int i = 0; i < cluster.size(); ++i) {
    if (cluster.up(i)) drain.delivered += cluster.service(i)->StatusReport().hints_delivered;
  }

  ScenarioResult r;
  std::vector<std::string> hangs = repair.hangs();
  for (const auto& w : workloads) {
    auto h = w->hangs();
    hangs.insert(hangs.end(), h.begin(), h.end());
  }
  std::set<std::string> buckets;
  for (const auto& [bucket, key] : keys) buckets.insert(bucket);
  for (const std::string& b : buckets) {
    bool lww = cluster.options().buckets.Get(b).resolver == ResolverKind::kLww;
    if (lww) {
      CheckResult c = CheckLww(cluster, history, b);
      r.lww_discarded += c.discarded;
      r.lww_acked += c.checked;
      r.checks.push_back(std::move(c));
    } else {
      r.checks.push_back(CheckNoLostWrites(cluster, history, b));
    }
    CheckResult conv = CheckConvergence(cluster, history, b);
    conv.name += "(" + b + ")";
    r.checks.push_back(std::move(conv));
  }
  if (spec.handoff_checks) r.checks.push_back(std::move(complete));
  r.checks.push_back(CheckHintsDrained(drain));
  if (probe) r.checks.push_back(probe->Check());
  if (spec.faults && !spec.faults_check.empty()) r.checks.push_back(std::move(fault_script));
  r.checks.push_back(CheckNoHangs(hangs));
  r.checks.push_back(std::move(healed));
  if (spec.script) r.checks.push_back(std::move(scripted));
  if (!cluster.start_failures().empty()) {
    CheckResult d;
    d.name = "service-start";
    for (const auto& f : cluster.start_failures()) d.Fail(f);
    r.checks.push_back(std::move(d));
  }
  if (cluster.decode_errors() > 0) {
    CheckResult d;
    d.name = "wire";
    d.Fail(std::to_string(cluster.decode_errors()) + " messages failed to decode");
    r.checks.push_back(std::move(d));
  }

  for (const auto& c : r.checks) r.ok = r.ok && c.ok();
  if (!config.dump_key.empty()) {
    FILE* out = config.trace ? config.trace : stdout;
    for (const Op& op : history.ops()) {
      if (op.bucket + "/" + op.key != config.dump_key) continue;
      std::string ctx;
      for (const auto& [a, n] : op.context.entries()) {
        ctx += " " + a.node + "#" + std::to_string(a.incarnation % 10000) + ":" + std::to_string(n);
      }
      std::fprintf(out, "%s ctx[%s ] ts=%lld\n", DescribeOp(op).c_str(), ctx.c_str(),
                   static_cast<long long>(op.has_dot ? op.sibling.timestamp_us : 0));
    }
  }
  History::Counts counts = history.Count();
  r.ops = history.ops().size();
  for (const Op& op : history.ops()) r.duplicate_applied += op.dot_matches > 1 ? 1 : 0;
  r.ops_ok = counts.ok;
  r.ops_fail = counts.fail;
  r.ops_info = counts.info;
  r.faults = nemesis.faults_injected();
  r.messages = cluster.network().stats().sent;
  r.nemesis_log = nemesis.log();
  r.drain = drain;
  for (const auto& c : r.checks) r.handoff_excused += c.name == "handoff-complete" ? c.excused : 0;
  if (probe) {
    r.detection = probe->Summary();
    r.detection_samples = probe->samples();
  }
  r.trace_hash = world.trace().HexHash();
  r.sim_us = world.now();
  r.events = world.queue().events_run();
  r.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

}  // namespace ringkv::sim
