// The scenario table: every simulation scenario as one row of data
// (scenario_def.h), and the drivers of the scripted ones.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/hash.h"
#include "ring/gossip.h"
#include "tests/sim/scenario_def.h"

namespace ringkv::sim {
namespace {

// Blind puts, each to a fresh key, on the bucket "h" that nothing reads
// before the checkers (handoff-complete).
WorkloadOptions BlindWrites(int64_t max_think_us = 60'000) {
  return {.bucket = "h",
          .clients = 2,
          .fresh_keys = true,
          .max_think_us = max_think_us,
          .put_pct = 100,
          .rmw_pct = 0,
          .delete_pct = 0};
}

// What the large-cluster scenarios throw: crashes, pauses, partitions and
// lossy links, at most `max_faulty` nodes faulty at once.
NemesisOptions LargeClusterFaults(int max_faulty) {
  return {.crash = true,
          .pause = true,
          .partition = true,
          .link_chaos = true,
          .max_faulty = max_faulty};
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

  void Start() {
    c->world().queue().At(100'000, [this] { Round(); });
  }

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

// ---------------------------------------------------------------- forward-replay
//
// Issue 9 as reported on real processes. A primary v is paused (SIGSTOP)
// for 1-10 s. For keys whose first primary is v, a put X goes through a
// node that is not a primary: it forwards X to v, where X waits in the
// paused loop as it would in a stopped process's socket, times out after
// its slice of the deadline, and is coordinated by the next primary and
// acknowledged. Then a put Y of the same key goes through another primary
// and is acknowledged. Then v resumes and finds X. Each round does this for
// keys of the LWW bucket and the siblings bucket; lww-order and
// no-duplicate-siblings judge the outcome, and this script checks that the
// setup happened (both puts acknowledged while v was paused, Y invoked
// after X's acknowledgement by more than the clocks can explain), so a run
// cannot pass by not exercising the path.
struct ForwardReplayScript {
  SimCluster* c;
  CheckResult* out;
  Random random;
  Client client;
  int next_value = 0;
  int next_key = 0;
  static constexpr int kRounds = 3;
  static constexpr int kKeysPerBucket = 2;
  static constexpr uint32_t kTimeoutMs = 1000;

  // One key's round: v is paused until resume_at; X goes through `via`,
  // Y through `second`, another primary.
  struct Key {
    std::string bucket, key;
    int v = -1, via = -1, second = -1;
    int64_t resume_at = 0;
  };

  ForwardReplayScript(SimCluster* cluster, History* history, CheckResult* result)
      : c(cluster),
        out(result),
        random(cluster->world().DeriveSeed()),
        client(cluster, history, 400) {}

  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(random.Uniform(static_cast<uint64_t>(hi - lo) + 1));
  }

  // A fresh key of `bucket` whose first primary is `v`.
  std::string KeyFirstOn(const std::string& bucket, int v) {
    for (;;) {
      std::string key = "f" + std::to_string(next_key++);
      if (c->Primaries(bucket, key)[0] == v) return key;
    }
  }

  void Start() {
    c->world().queue().At(500'000, [this] { Round(0); });
  }

  void Round(int round) {
    if (round >= kRounds) return;
    int v = static_cast<int>(random.Uniform(c->size()));
    int64_t resume_at = c->world().now() + Between(kSecond, 10 * kSecond);
    c->Pause(v);
    c->world().queue().At(resume_at, [this, v, round] {
      c->Resume(v);
      // The resumed node reads its backlog of heartbeats at one instant;
      // its detector samples those as zero intervals and convicts healthy
      // peers until a few real intervals arrive (docs/simulation.md). The
      // next round, which may coordinate through it, waits that out.
      c->world().queue().After(3 * kSecond, [this, round] { Round(round + 1); });
    });
    for (const char* bucket : {"lww", "b"}) {
      for (int k = 0; k < kKeysPerBucket; ++k) {
        Key key{bucket, KeyFirstOn(bucket, v), v, -1, -1, resume_at};
        std::vector<int> prim = c->Primaries(key.bucket, key.key);
        std::vector<int> others;
        for (int i = 0; i < c->size(); ++i) {
          if (std::find(prim.begin(), prim.end(), i) == prim.end()) others.push_back(i);
        }
        key.via = others[random.Uniform(others.size())];
        key.second = prim[1 + random.Uniform(prim.size() - 1)];
        c->world().queue().After(Between(20'000, 100'000), [this, key] { PutX(key); });
      }
    }
  }

  void PutX(const Key& k) {
    client.Put(k.via, k.bucket, k.key, "x" + std::to_string(next_value++), {}, 2, kTimeoutMs,
               [this, k](const Op& x) { OnX(k, x); });
  }

  void OnX(const Key& k, const Op& x) {
    ++out->checked;
    if (x.outcome != Outcome::kOk || x.complete_us >= k.resume_at) {
      out->Fail("put through a non-primary not acknowledged while " + c->id(k.v) +
                " was paused (2 of 3 primaries up): " + DescribeOp(x));
      return;
    }
    int64_t gap = 2 * c->MaxWallErrorUs() + Between(100'000, 200'000);
    c->world().queue().After(gap, [this, k, acked = x.complete_us] { PutY(k, acked); });
  }

  void PutY(const Key& k, int64_t x_acked) {
    client.Put(k.second, k.bucket, k.key, "y" + std::to_string(next_value++), {}, 2, kTimeoutMs,
               [this, k, x_acked](const Op& y) {
                 ++out->checked;
                 if (y.outcome != Outcome::kOk || y.complete_us >= k.resume_at) {
                   out->Fail("second put not acknowledged while " + c->id(k.v) +
                             " was paused: " + DescribeOp(y));
                 } else if (y.invoke_us - x_acked <= 2 * c->MaxWallErrorUs()) {
                   out->Fail(
                       "second put invoked too soon after the first was acknowledged "
                       "for the clocks to order them: " +
                       DescribeOp(y));
                 }
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

template <typename Script>
std::shared_ptr<void> StartScript(SimCluster* c, History* h, CheckResult* out) {
  auto script = std::make_shared<Script>(c, h, out);
  script->Start();
  return script;
}

}  // namespace

const std::vector<ScenarioDef>& Scenarios() {
  static const std::vector<ScenarioDef> kScenarios = {
      {.name = "basic",
       .what = "none (jitter, tail latency, reordering)",
       .link_tail = 0.01,
       .link_reorder = 0.05},
      {.name = "network",
       .what = "partitions of every shape, lossy/duplicating/reordering links",
       .nemesis = {.partition = true, .link_chaos = true}},
      {.name = "crash",
       .what = "process crash, power loss, pause",
       .nemesis = {.crash = true, .power_loss = true, .pause = true}},
      {.name = "wipe",
       .what = "one disk wipe (new incarnation), crashes",
       .nemesis = {.crash = true, .wipe = true, .max_wipes = 1}},
      {.name = "disk",
       .what = "full disk, slow disk, crashes",
       .nemesis = {.crash = true, .disk_full = true, .slow_disk = true}},
      {.name = "clock",
       .what = "clock offsets up to 1 s, drift 200 ppm, clock jumps, pauses; lww bucket too",
       .max_clock_offset_us = kSecond,
       .max_drift_ppm = 200,
       .nemesis = {.pause = true, .clock_jump = true},
       .workloads = {{}, {.bucket = "lww", .rmw_pct = 0, .delete_pct = 0}}},
      {.name = "chaos",
       .what = "all of the above plus buggify; lww bucket too",
       .max_clock_offset_us = 500'000,
       .max_drift_ppm = 100,
       .buggify = true,
       .nemesis = {.crash = true,
                   .power_loss = true,
                   .wipe = true,
                   .pause = true,
                   .partition = true,
                   .clock_jump = true,
                   .disk_full = true,
                   .slow_disk = true,
                   .link_chaos = true},
       .workloads = {{}, {.bucket = "lww"}}},
      {.name = "availability",
       .what = "scripted quorum rounds",
       .run_us = 0,
       .workloads = {},
       .script = StartScript<AvailabilityScript>,
       .script_check = "availability"},
      {.name = "siblings",
       .what = "scripted concurrent writes",
       .run_us = 0,
       .workloads = {},
       .script = StartScript<SiblingsScript>,
       .script_check = "semantics"},
      {.name = "aae",
       .what = "anti-entropy alone heals (hints never delivered, no read-repair pass): "
               "crashes mid-write, partitions, lossy links",
       .partitions = 16,
       .nemesis = {.crash = true, .partition = true, .link_chaos = true},
       .anti_entropy = true},
      {.name = "aae-wipe",
       .what = "anti-entropy alone refills a wiped replica; crashes, power loss, pauses",
       .partitions = 16,
       .nemesis = {.crash = true, .power_loss = true, .wipe = true, .pause = true},
       .anti_entropy = true},
      {.name = "large",
       .what = "120 nodes, Q=1024: crash, partitions, pauses, lossy links, 5 faulty at once",
       .nodes = 120,
       .partitions = 1024,
       .run_us = 6 * kSecond,
       .nemesis = LargeClusterFaults(5),
       .pace = Pace::kDense,
       .workloads = {{.clients = 24, .keys = 400}}},
      {.name = "huge",
       .what = "1000 nodes, Q=1024: the same, 20 faulty at once (soak)",
       .nodes = 1000,
       .partitions = 1024,
       .run_us = 4 * kSecond,
       .nemesis = LargeClusterFaults(20),
       .pace = Pace::kDense,
       .workloads = {{.clients = 64, .keys = 2000}}},
      {.name = "handoff-crash",
       .what = "fast gossip; crashes and power losses of 1-8 s, 2 nodes at once",
       .run_us = 20 * kSecond,
       .nemesis = {.crash = true, .power_loss = true, .max_faulty = 2},
       .pace = Pace::kHandoff,
       .workloads = {{}, BlindWrites()},
       .fast_failure_handling = true,
       .handoff_checks = true,
       .measure_detection = true},
      {.name = "handoff-pause",
       .what = "fast gossip; pauses of 1-8 s, 2 nodes at once",
       .run_us = 20 * kSecond,
       .nemesis = {.pause = true, .max_faulty = 2},
       .pace = Pace::kHandoff,
       .workloads = {{}, BlindWrites()},
       .fast_failure_handling = true,
       .handoff_checks = true,
       .measure_detection = true},
      {.name = "handoff-partition",
       .what = "fast gossip; partitions of every shape (1-8 s), lossy links",
       .run_us = 20 * kSecond,
       .nemesis = {.partition = true, .link_chaos = true},
       .pace = Pace::kHandoff,
       .workloads = {{}, BlindWrites()},
       .fast_failure_handling = true,
       .handoff_checks = true,
       .measure_detection = true},
      {.name = "handoff-n3",
       .what = "3 nodes at N=3, fast gossip; crash, pause, partition: no fallback exists, "
               "hints live on the coordinator",
       .nodes = 3,
       .run_us = 20 * kSecond,
       .nemesis = {.crash = true, .pause = true, .partition = true},
       .pace = Pace::kHandoff,
       .workloads = {{}, BlindWrites()},
       .fast_failure_handling = true,
       .handoff_checks = true,
       .measure_detection = true},
      {.name = "handoff-restart",
       .what = "fast gossip; a node killed; the node holding most hints for it power-cycled "
               "before it delivers them",
       .run_us = 22 * kSecond,
       .pace = Pace::kHandoff,
       .workloads = {{}, BlindWrites()},
       .fast_failure_handling = true,
       .handoff_checks = true,
       .measure_detection = true,
       .faults = HolderRestart,
       .faults_check = "hints-survive-restart"},
      {.name = "handoff-restart-n3",
       .what = "3 nodes at N=3: the same, the holder being a coordinator",
       .nodes = 3,
       .run_us = 22 * kSecond,
       .pace = Pace::kHandoff,
       .workloads = {{}, BlindWrites()},
       .fast_failure_handling = true,
       .handoff_checks = true,
       .measure_detection = true,
       .faults = HolderRestart,
       .faults_check = "hints-survive-restart"},
      {.name = "detect-default",
       .what = "default detection (1 s gossip, phi 8): one node crashed at 25 s for 30 s, "
               "another paused at 60 s for 28 s",
       .run_us = 92 * kSecond,
       .workloads = {{.clients = 2, .max_think_us = 200'000}, BlindWrites(200'000)},
       .handoff_checks = true,
       .measure_detection = true,
       .faults = DefaultDetection},
      {.name = "forward-replay",
       .what = "issue 9, scripted: a first primary paused 1-10 s while puts forwarded to it "
               "fail over and are overtaken; clocks within 20 ms",
       .run_us = 0,
       .max_clock_offset_us = 20'000,
       .max_drift_ppm = 50,
       .workloads = {},
       .script = StartScript<ForwardReplayScript>,
       .script_check = "replay-setup"},
      {.name = "ring-join-leave",
       .what = "issue 15: 5 -> 7 -> 5 members (two joins, then two leaves) through plan and "
               "commit, under crashes, pauses and partitions",
       .run_us = 30 * kSecond,
       .nemesis = {.crash = true, .pause = true, .partition = true},
       .workloads = {{}, BlindWrites()},
       .handoff_checks = true,
       .ring_steps = {{.joins = 2}, {.leaves = 2}}},
      {.name = "ring-replace",
       .what = "issue 15: 5 members, two in turn replaced by a new node (ring replace OLD NEW: "
               "NEW takes exactly OLD's partitions), under crashes, pauses and partitions",
       .run_us = 30 * kSecond,
       .nemesis = {.crash = true, .pause = true, .partition = true},
       .workloads = {{}, BlindWrites()},
       .handoff_checks = true,
       .ring_steps = {{.replaces = 1}, {.replaces = 1}}},
      {.name = "ring-force-remove",
       .what = "issue 15: 5 members, one crashed for good (its disk lost), marked down and "
               "force-removed, under crashes, pauses and partitions",
       .run_us = 30 * kSecond,
       .nemesis = {.crash = true, .pause = true, .partition = true},
       .workloads = {{}, BlindWrites()},
       .handoff_checks = true,
       .ring_steps = {{.force_removes = 1}}},
      {.name = "ring-force-replace",
       .what = "issue 15: 5 members, one crashed for good (its disk lost), marked down and "
               "force-replaced by a new node, under crashes, pauses and partitions",
       .run_us = 30 * kSecond,
       .nemesis = {.crash = true, .pause = true, .partition = true},
       .workloads = {{}, BlindWrites()},
       .handoff_checks = true,
       .ring_steps = {{.force_replaces = 1}}},
      {.name = "ring-large",
       .what = "issue 15: 120 nodes, Q=1024: 3 joins, 3 leaves, then 2 of each, under crashes, "
               "pauses, partitions and lossy links, 5 faulty at once",
       .nodes = 120,
       .partitions = 1024,
       .run_us = 20 * kSecond,
       .nemesis = LargeClusterFaults(5),
       .pace = Pace::kDense,
       .workloads = {{.clients = 24, .keys = 400}, BlindWrites()},
       .handoff_checks = true,
       .ring_steps = {{.joins = 3}, {.leaves = 3}, {.joins = 2, .leaves = 2}}},
  };
  return kScenarios;
}

const ScenarioDef* FindScenario(std::string_view name) {
  for (const ScenarioDef& def : Scenarios()) {
    if (def.name == name) return &def;
  }
  return nullptr;
}

}  // namespace ringkv::sim
