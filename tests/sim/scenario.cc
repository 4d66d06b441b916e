#include "tests/sim/scenario.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "tests/sim/buggify.h"
#include "tests/sim/detection.h"
#include "tests/sim/nemesis.h"
#include "tests/sim/ring_driver.h"
#include "tests/sim/ring_placement.h"
#include "tests/sim/scenario_def.h"
#include "tests/sim/workload.h"

namespace ringkv::sim {
namespace {

// A run, built from a scenario row (MakeSpec).
struct Spec {
  ClusterOptions cluster;
  std::vector<WorkloadOptions> workloads;
  NemesisOptions nemesis;
  int64_t fault_end_us = 10 * kSecond;
  bool buggify = false;
  ScriptFn script = nullptr;
  std::string script_check;
  FaultsFn faults = nullptr;
  std::string faults_check;
  // Failure handling. With handoff checks the run waits for every node's
  // hints to drain and checks handoff-complete on the write-only bucket
  // "h" before the read-repair pass; every scenario checks hints-drained.
  bool handoff_checks = false;
  int64_t drain_bound_us = 30 * kSecond;
  bool measure_detection = false;
  // No read-repair pass and no hint delivery: anti-entropy alone heals.
  bool anti_entropy = false;
  std::vector<RingStep> ring_steps;
};

BucketTable DefaultBuckets() {
  BucketTable t(BucketProps{3, 2, 2, "siblings"});
  t.Set("lww", BucketProps{3, 2, 2, "lww"});
  // Written only by blind puts, each to a fresh key, and never read before
  // the checkers: what reaches a replica of it got there by the put itself
  // or by hinted handoff (a later put would carry earlier siblings along).
  t.Set("h", BucketProps{3, 2, 2, "siblings"});
  return t;
}

// The run a scenario row describes, with the command line's overrides.
Spec MakeSpec(const ScenarioDef& def, const ScenarioConfig& config) {
  Spec s;
  s.cluster.nodes = def.nodes;
  s.cluster.partitions = def.partitions;
  s.cluster.buckets = DefaultBuckets();
  s.cluster.link.min_latency_us = 100;
  s.cluster.link.max_latency_us = 2000;
  s.cluster.link.tail_probability = def.link_tail;
  s.cluster.link.reorder = def.link_reorder;
  s.cluster.max_clock_offset_us = def.max_clock_offset_us;
  s.cluster.max_drift_ppm = def.max_drift_ppm;
  s.fault_end_us = def.run_us;
  s.buggify = def.buggify;
  s.workloads = def.workloads;
  for (WorkloadOptions& w : s.workloads) w.end_us = def.run_us;
  s.nemesis = def.nemesis;
  s.nemesis.start_us = 500'000;
  s.nemesis.end_us = def.run_us;
  switch (def.pace) {
    case Pace::kDefault:
      break;
    case Pace::kHandoff:
      s.nemesis.end_us = def.run_us - 2 * kSecond;
      s.nemesis.min_gap_us = 500'000;
      s.nemesis.max_gap_us = 3 * kSecond;
      s.nemesis.min_duration_us = kSecond;
      s.nemesis.max_duration_us = 8 * kSecond;
      break;
    case Pace::kDense:
      s.nemesis.min_gap_us = 50'000;
      s.nemesis.max_gap_us = 300'000;
      break;
  }
  if (def.fast_failure_handling) {
    // Convicts 1.8-4.6 s after a node falls silent.
    Random gossip(config.seed ^ 0x5eed'90551bULL);
    s.cluster.gossip.interval_us = 100'000 + static_cast<int64_t>(gossip.Uniform(151)) * 1000;
    s.cluster.gossip.phi_threshold = 8.0;
    s.drain_bound_us = 20 * kSecond;
    // One seed in three paces handoff slowly, so a drain takes measurable time.
    Random rate(config.seed ^ 0x41ab'7e00ULL);
    if (rate.OneIn(3)) s.cluster.hint_rate_per_sec = 50;
  }
  s.handoff_checks = def.handoff_checks;
  s.measure_detection = def.measure_detection;
  s.anti_entropy = def.anti_entropy;
  if (def.anti_entropy) {
    s.cluster.deliver_hints = false;
    s.cluster.aae.enabled = true;
    s.cluster.aae.interval_us = 200'000;
    s.cluster.aae.step_timeout_us = 2 * kSecond;
    s.cluster.aae.repair_objects_per_sec = 5000;
  }
  s.faults = def.faults;
  s.faults_check = def.faults_check;
  s.script = def.script;
  s.script_check = def.script_check;
  if (config.gossip_interval_ms > 0) s.cluster.gossip.interval_us = config.gossip_interval_ms * 1000;
  if (config.phi_threshold > 0) s.cluster.gossip.phi_threshold = config.phi_threshold;
  if (config.hint_rate > 0) s.cluster.hint_rate_per_sec = config.hint_rate;
  if (config.nodes > 0) s.cluster.nodes = config.nodes;
  if (config.partitions > 0) s.cluster.partitions = config.partitions;
  s.ring_steps = def.ring_steps;
  if (!s.ring_steps.empty()) {
    int joins = 0;
    for (const RingStep& step : s.ring_steps) {
      joins += step.joins + step.replaces + step.force_replaces;
    }
    s.cluster.ring_members = s.cluster.nodes;
    s.cluster.joiners = joins;
    s.cluster.nodes += joins;
    // ringkv-node's defaults scaled to a run of seconds; the settle stays
    // above a request deadline (2 s), as the transfer protocol needs.
    s.cluster.ring_changes.tick_us = 250'000;
    s.cluster.ring_changes.transfers.settle_us = 2'500'000;
    s.cluster.ring_changes.cleanup_delay_us = 3 * kSecond;
    // The catch-up exchange after the flip is anti-entropy's; its periodic
    // exchanges would repair what a faulty transfer lost, so they wait.
    s.cluster.aae.enabled = true;
    s.cluster.aae.interval_us = int64_t{3600} * kSecond;
  }
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
    if (!cluster.up(i)) continue;
    for (const auto& [target, count] : cluster.service(i)->HintCounts()) {
      if (!drain->leftover.empty()) drain->leftover += ", ";
      drain->leftover += cluster.id(i) + "->" + target + ": " + std::to_string(count);
    }
  }
}

}  // namespace

const std::vector<std::string>& ScenarioNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const ScenarioDef& def : Scenarios()) names.push_back(def.name);
    return names;
  }();
  return kNames;
}

bool IsScenario(const std::string& name) { return FindScenario(name) != nullptr; }

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
  if (!ring_log.empty()) {
    s += "ring: ended at epoch " + std::to_string(final_epoch) + " with " +
         std::to_string(final_members) + " valid members; " + ring_log.back() + "\n";
  }
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
         "deadline, or a disk lost after the write\n";
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
  const ScenarioDef* def = FindScenario(config.name);
  if (def == nullptr) {
    ScenarioResult r;
    r.ok = false;
    CheckResult unknown;
    unknown.name = "scenario";
    unknown.Fail("no scenario named '" + config.name + "'");
    r.checks.push_back(std::move(unknown));
    return r;
  }
  Spec spec = MakeSpec(*def, config);
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
  scripted.name = spec.script_check;
  std::shared_ptr<void> script;
  if (spec.script) script = spec.script(&cluster, &history, &scripted);
  std::unique_ptr<RingDriver> ring;
  if (!spec.ring_steps.empty()) {
    ring = std::make_unique<RingDriver>(&cluster, spec.ring_steps, world.DeriveSeed(), kSecond);
    ring->Start();
  }
  if (config.after_start) config.after_start(&cluster, &history);

  // Faults, then heal and let in-flight requests finish.
  int64_t script_end = spec.script ? 40 * kSecond : 0;
  world.queue().RunUntil(std::max(spec.fault_end_us, script_end));
  if (probe) probe->Close();
  nemesis.HealAll();
  if (ring) {
    // The operator finishes on the healed cluster; every checker then
    // judges by the ring it ended on.
    const int64_t bound = world.now() + 90 * kSecond;
    while (!ring->done() && world.now() < bound) world.queue().RunUntil(world.now() + 250'000);
    // A receiver has every acknowledged write once its catch-up exchanges
    // ran (what dual writes missed while it was unreachable).
    while (ring->PendingCatchUps() > 0 && world.now() < bound) {
      world.queue().RunUntil(world.now() + 250'000);
    }
    if (std::optional<RingState> last = ring->LatestState()) {
      if (Result<Ring> final_ring = PlacementRing(*last); final_ring.ok()) {
        cluster.JudgeBy(std::move(final_ring).value());
      }
    }
  }
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
    complete = CheckHandoffComplete(cluster, history, "h",
                                    ring ? ring->disk_losses() : std::vector<int64_t>{});
  }

  // Read-repair pass: a get at R=N of every key touched, then quiet.
  // With anti-entropy, instead, the run waits for it to converge alone.
  Client repair(&cluster, &history, -1);
  CheckResult healed;
  healed.name = "available-after-heal";
  std::set<std::pair<std::string, std::string>> keys;
  for (const Op& op : history.ops()) keys.insert({op.bucket, op.key});
  Random pick(world.DeriveSeed());
  if (spec.anti_entropy) {
    const int64_t bound = world.now() + 120 * kSecond;
    while (world.now() < bound) {
      std::set<std::string> touched;
      for (const auto& [bucket, key] : keys) touched.insert(bucket);
      bool converged = true;
      for (const std::string& bucket : touched) {
        converged = converged && CheckAaeConvergence(cluster, history, bucket).ok();
      }
      if (converged) break;
      world.queue().RunUntil(world.now() + 500'000);
    }
    // Reaping rounds still under way finish (or settle) before the checks.
    world.queue().RunUntil(world.now() + 5 * kSecond);
    keys.clear();
  }
  for (const auto& [bucket, key] : keys) {
    int node = static_cast<int>(pick.Uniform(cluster.size()));
    while (!cluster.present(node)) node = static_cast<int>(pick.Uniform(cluster.size()));
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
  } else if (!spec.anti_entropy) {
    TrackDrain(world, cluster, &drain, world.now() + kSecond);
    WaitForDrain(world, cluster, &drain);
  }
  for (int i = 0; i < cluster.size(); ++i) {
    if (cluster.up(i)) drain.delivered += cluster.service(i)->StatusReport().hints_delivered;
  }
  if (ring) {
    // Old owners delete what they handed on a cleanup delay after the flip.
    const int64_t bound = world.now() + 30 * kSecond;
    while (MisplacedObjects(cluster) > 0 && world.now() < bound) {
      world.queue().RunUntil(world.now() + 500'000);
    }
  }

  ScenarioResult r;
  std::vector<std::string> hangs = repair.hangs();
  for (const auto& w : workloads) {
    auto h = w->hangs();
    hangs.insert(hangs.end(), h.begin(), h.end());
  }
  std::set<std::string> buckets;
  for (const Op& op : history.ops()) buckets.insert(op.bucket);
  for (const std::string& b : buckets) {
    bool lww = cluster.options().buckets.Get(b).resolver == "lww";
    if (lww) {
      CheckResult c = CheckLww(cluster, history, b);
      r.lww_discarded += c.discarded;
      r.lww_acked += c.checked;
      r.checks.push_back(std::move(c));
      r.checks.push_back(CheckLwwOrder(cluster, history, b, cluster.MaxWallErrorUs()));
    } else {
      r.checks.push_back(CheckNoLostWrites(cluster, history, b));
    }
    CheckResult dup = CheckNoDuplicateSiblings(cluster, history, b);
    dup.name += "(" + b + ")";
    r.checks.push_back(std::move(dup));
    CheckResult conv = CheckConvergence(cluster, history, b);
    conv.name += "(" + b + ")";
    r.checks.push_back(std::move(conv));
    if (spec.anti_entropy) {
      CheckResult bytes = CheckAaeConvergence(cluster, history, b);
      bytes.name += "(" + b + ")";
      r.checks.push_back(std::move(bytes));
      CheckResult back = CheckNoResurrection(cluster, history, b);
      back.name += "(" + b + ")";
      r.checks.push_back(std::move(back));
    }
  }
  if (spec.handoff_checks) r.checks.push_back(std::move(complete));
  // Hints are never delivered with anti-entropy alone healing.
  if (!spec.anti_entropy) r.checks.push_back(CheckHintsDrained(drain));
  if (probe) r.checks.push_back(probe->Check());
  if (spec.faults && !spec.faults_check.empty()) r.checks.push_back(std::move(fault_script));
  r.checks.push_back(CheckNoHangs(hangs));
  r.checks.push_back(std::move(healed));
  if (spec.script) r.checks.push_back(std::move(scripted));
  if (ring) {
    r.checks.push_back(CheckRingPlacement(cluster));
    r.checks.push_back(ring->Check());
    r.ring_log = ring->log();
    if (std::optional<RingState> last = ring->LatestState()) {
      r.final_epoch = last->epoch;
      for (const StateMember& m : last->members) {
        r.final_members += m.status == MemberStatus::kValid ? 1 : 0;
      }
    }
  }
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
  // Two concurrent deletes both match a delete's reply; only a put's value
  // is its own.
  for (const Op& op : history.ops()) {
    r.duplicate_applied += op.type == OpType::kPut && op.dot_matches > 1 ? 1 : 0;
  }
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
