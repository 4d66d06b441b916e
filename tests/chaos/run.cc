#include "tests/chaos/run.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "client/client.h"
#include "tests/chaos/cluster.h"
#include "tests/chaos/history.h"
#include "tests/chaos/netfilter.h"
#include "tests/chaos/workload.h"

namespace ringkv::chaos {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kLwwBucket = "lww";
constexpr const char* kSiblingsBucket = "sib";
constexpr milliseconds kReadTimeout{1'000};
constexpr milliseconds kServingTimeout{30'000};
constexpr milliseconds kConvergencePoll{200};
constexpr uint32_t kPlantTimeoutMs = 5'000;

// The planted values and keys each checker must name.
constexpr const char* kPlantLostValue = "plant:lost-canary";
constexpr const char* kPlantPhantomValue = "plant:never-written";
constexpr const char* kPlantDuplicateValue = "plant:duplicate";
constexpr const char* kPlantLwwKey = "plant-lww";
constexpr const char* kPlantLwwEarlier = "plant:lww-a";  // recorded first, written last
constexpr const char* kPlantLwwLater = "plant:lww-b";    // recorded last, written first
constexpr const char* kPlantConvergenceKey = "plant-convergence";
constexpr const char* kPlantConvergenceValue = "plant:convergence";
constexpr const char* kPlantAvailabilityPrefix = "plant:availability-";

struct PlantInfo {
  Plant plant;
  const char* name;
  const char* checker;
};
constexpr PlantInfo kPlantNames[] = {
    {Plant::kLost, "lost", "lost"},
    {Plant::kNeverWritten, "never-written", "never-written"},
    {Plant::kDuplicate, "duplicate", "duplicate-siblings"},
    {Plant::kLwwOrder, "lww-order", "lww-order"},
    {Plant::kConvergence, "convergence", "convergence"},
    {Plant::kAvailability, "availability", "availability"},
};

bool Planted(const ChaosOptions& options, Plant plant) {
  return std::find(options.plants.begin(), options.plants.end(), plant) != options.plants.end();
}

void Progress(std::ostream* out, const std::string& line) {
  if (out != nullptr) *out << line << std::endl;
}

bool Stopped(const std::atomic<bool>* stop) { return stop != nullptr && stop->load(); }

Result<std::unique_ptr<Client>> ClientFor(const ChaosCluster& cluster, int node,
                                          uint32_t timeout_ms) {
  ClientOptions options;
  options.nodes = {cluster.Address(node)};
  options.timeout_ms = timeout_ms;
  options.breaker.failure_threshold = 0;
  return Client::Connect(options);
}

// One write through `node`, recorded in `history` (unless `record` is
// false) with its outcome; returns the op as recorded.
Op Write(const ChaosCluster& cluster, History* history, const RunClock& clock,
         const std::string& worker, int node, const std::string& bucket, const std::string& key,
         const std::string& value, uint32_t timeout_ms, bool record = true) {
  Op op;
  op.worker = worker;
  op.bucket = bucket;
  op.key = key;
  op.value = value;
  op.node = node;
  op.invoke_us = clock.NowUs();
  if (record) op.id = history->Invoke(op);
  Status status;
  Result<std::unique_ptr<Client>> client = ClientFor(cluster, node, timeout_ms);
  if (client.ok()) {
    WriteOptions write;
    write.timeout_ms = timeout_ms;
    status = (*client)->Put(bucket, key, value, write).status();
  } else {
    status = client.status();
  }
  op.complete_us = clock.NowUs();
  op.outcome = status.ok() ? Outcome::kOk : status.IsTimeout() ? Outcome::kInfo : Outcome::kFail;
  op.error = status.ok() ? "" : status.ToString();
  if (record) history->Complete(op.id, op.outcome, op.complete_us, op.error);
  return op;
}

// The planted bugs that are writes (or records of writes), made once the
// workload runs and before the first fault.
Status PlantWrites(const ChaosOptions& options, const ChaosCluster& cluster, History* history,
                   const RunClock& clock) {
  auto must = [](const Op& op) {
    return op.outcome == Outcome::kOk ? Status::OK()
                                      : Status::Internal("planted write failed: " + DescribeOp(op));
  };
  if (Planted(options, Plant::kLost)) {
    Op canary;
    canary.worker = "plant:lost";
    canary.bucket = kSiblingsBucket;
    canary.key = WorkloadKey(0);
    canary.value = kPlantLostValue;
    canary.node = 1;
    canary.invoke_us = clock.NowUs();
    canary.complete_us = canary.invoke_us + 1;
    canary.outcome = Outcome::kOk;
    history->Record(canary);
  }
  if (Planted(options, Plant::kNeverWritten)) {
    RINGKV_RETURN_IF_ERROR(
        must(Write(cluster, history, clock, "plant:never-written", 1, kSiblingsBucket,
                   WorkloadKey(1), kPlantPhantomValue, kPlantTimeoutMs, /*record=*/false)));
  }
  if (Planted(options, Plant::kDuplicate)) {
    const Op first = Write(cluster, history, clock, "plant:duplicate", 1, kSiblingsBucket,
                           WorkloadKey(2), kPlantDuplicateValue, kPlantTimeoutMs);
    RINGKV_RETURN_IF_ERROR(must(first));
    RINGKV_RETURN_IF_ERROR(
        must(Write(cluster, history, clock, "plant:duplicate", 1, kSiblingsBucket, WorkloadKey(2),
                   kPlantDuplicateValue, kPlantTimeoutMs, /*record=*/false)));
  }
  if (Planted(options, Plant::kLwwOrder)) {
    // Written later first, then earlier; recorded with each other's times,
    // so the history says "earlier" was acknowledged before "later" began,
    // yet "earlier" (truly the last write) wins.
    Op later = Write(cluster, history, clock, "plant:lww-order", 1, kLwwBucket, kPlantLwwKey,
                     kPlantLwwLater, kPlantTimeoutMs, /*record=*/false);
    Op earlier = Write(cluster, history, clock, "plant:lww-order", 1, kLwwBucket, kPlantLwwKey,
                       kPlantLwwEarlier, kPlantTimeoutMs, /*record=*/false);
    RINGKV_RETURN_IF_ERROR(must(later));
    RINGKV_RETURN_IF_ERROR(must(earlier));
    std::swap(later.invoke_us, earlier.invoke_us);
    std::swap(later.complete_us, earlier.complete_us);
    history->Record(earlier);
    history->Record(later);
  }
  if (Planted(options, Plant::kConvergence)) {
    RINGKV_RETURN_IF_ERROR(
        must(Write(cluster, history, clock, "plant:convergence", 1, kSiblingsBucket,
                   kPlantConvergenceKey, kPlantConvergenceValue, kPlantTimeoutMs)));
  }
  return Status::OK();
}

// The planted convergence bug: the first replica's read of its key answers
// "not found", as a replica that never got the write and is never repaired
// would.
void TamperRead(KeyState* state) {
  if (state->bucket != kSiblingsBucket || state->key != kPlantConvergenceKey) return;
  ReplicaRead& first = state->replicas.front();
  first.found = false;
  first.object = Object();
}

struct Convergence {
  int64_t ms = -1;  // from the start of Converge until all were equal
  std::set<std::string> repaired;
  std::vector<KeyState> states;  // the last reads
};

// Reads every key from every replica until all are equal or the timeout
// passes. Keys still differing once no node holds hints (or half the
// timeout has passed) get a read at R = all, whose coordinator repairs the
// stale replicas: without anti-entropy that is how a wiped replica gets old
// keys back.
Convergence Converge(ChaosCluster* cluster,
                     const std::vector<std::pair<std::string, std::string>>& keys,
                     int64_t timeout_ms, const std::function<void(KeyState*)>& tamper,
                     const std::atomic<bool>* stop) {
  Convergence result;
  const auto start = Clock::now();
  const auto deadline = start + milliseconds(timeout_ms);
  std::vector<std::unique_ptr<Client>> repairers(static_cast<size_t>(cluster->nodes()));
  for (int round = 0;; ++round) {
    result.states.clear();
    std::vector<const KeyState*> differing;
    for (const auto& [bucket, key] : keys) {
      result.states.push_back(cluster->ReadKey(bucket, key, kReadTimeout));
      if (tamper) tamper(&result.states.back());
    }
    for (const KeyState& s : result.states) {
      if (!Converged(s)) differing.push_back(&s);
    }
    const auto now = Clock::now();
    if (differing.empty()) {
      result.ms = std::chrono::duration_cast<milliseconds>(now - start).count();
      return result;
    }
    if (now >= deadline || Stopped(stop)) return result;
    const std::optional<uint64_t> hints = cluster->HintsPending(kReadTimeout);
    if ((hints && *hints == 0) || now - start > milliseconds(timeout_ms / 2)) {
      size_t next = static_cast<size_t>(round);
      for (const KeyState* s : differing) {
        const size_t i = next++ % repairers.size();
        if (repairers[i] == nullptr) {
          Result<std::unique_ptr<Client>> c = ClientFor(
              *cluster, static_cast<int>(i) + 1, static_cast<uint32_t>(kReadTimeout.count()));
          if (!c.ok()) continue;
          repairers[i] = std::move(c).value();
        }
        ReadOptions read;
        read.r = kQuorumAll;
        (void)repairers[i]->Get(s->bucket, s->key, read);  // best effort: judged by the next round
        result.repaired.insert(s->bucket + "/" + s->key);
      }
    }
    WaitUntil(std::min(deadline, Clock::now() + kConvergencePoll), stop);
  }
}

// Leaves the cluster's directory behind for a look, and says where.
void Keep(ChaosCluster* cluster, ChaosReport* report) {
  cluster->KeepDirectory();
  report->kept_dirs.push_back(cluster->dir());
}

void Merge(CheckResult result, std::vector<CheckResult>* into) {
  for (CheckResult& c : *into) {
    if (c.name != result.name) continue;
    c.checked += result.checked;
    c.violations += result.violations;
    for (std::string& e : result.examples) {
      if (c.examples.size() < 20) c.examples.push_back(std::move(e));
    }
    c.subjects.insert(result.subjects.begin(), result.subjects.end());
    return;
  }
  into->push_back(std::move(result));
}

void CountOps(const std::vector<Op>& ops, ChaosReport* report) {
  for (const Op& op : ops) {
    ++report->invoked;
    report->acknowledged += op.outcome == Outcome::kOk;
    report->failed += op.outcome == Outcome::kFail;
    report->indeterminate += op.outcome == Outcome::kInfo || op.outcome == Outcome::kPending;
  }
}

std::vector<std::pair<std::string, std::string>> KeysOf(const std::vector<Op>& ops) {
  std::set<std::pair<std::string, std::string>> keys;
  for (const Op& op : ops) keys.emplace(op.bucket, op.key);
  return {keys.begin(), keys.end()};
}

// The nemesis's events and every write, one a line, beside a kept cluster.
void WriteHistory(const std::vector<Op>& ops, const std::vector<std::string>& nemesis,
                  const std::string& path) {
  std::ofstream out(path);
  for (const std::string& line : nemesis) out << "nemesis " << line << "\n";
  for (const Op& op : ops) out << DescribeOp(op) << "\n";
}

// Checks shared by both scenarios; `ok` says whether all passed.
bool RunCheckers(const std::vector<Op>& ops, const std::vector<KeyState>& states,
                 ChaosReport* report) {
  bool ok = true;
  for (CheckResult r :
       {CheckLost(ops, states), CheckNeverWritten(ops, states), CheckLwwOrder(ops, states),
        CheckDuplicateSiblings(states), CheckConvergence(states)}) {
    ok = ok && r.ok();
    Merge(std::move(r), &report->checks);
  }
  return ok;
}

Status RunSchedule(const ChaosOptions& options, uint64_t seed, Netfilter* netfilter,
                   const std::atomic<bool>* stop, std::ostream* progress, ChaosReport* report) {
  ScheduleOptions schedule_options;
  schedule_options.seed = seed;
  schedule_options.nodes = options.nodes;
  schedule_options.faults = options.faults;
  schedule_options.kinds = options.kinds;
  schedule_options.min_fault_ms = options.min_fault_ms;
  schedule_options.max_fault_ms = options.max_fault_ms;
  schedule_options.min_gap_ms = options.min_gap_ms;
  schedule_options.max_gap_ms = options.max_gap_ms;
  const std::vector<Fault> schedule = MakeSchedule(schedule_options);
  Progress(progress, "schedule seed " + std::to_string(seed) + ":");
  for (const Fault& f : schedule) Progress(progress, "  " + DescribeFault(f));

  ChaosClusterOptions cluster_options;
  cluster_options.nodes = options.nodes;
  cluster_options.buckets = {{kLwwBucket, "resolver=lww"}, {kSiblingsBucket, "resolver=siblings"}};
  cluster_options.node_flags = options.node_flags;
  cluster_options.node_binary = options.node_binary;
  Result<std::unique_ptr<ChaosCluster>> started = ChaosCluster::Start(cluster_options);
  if (!started.ok()) return started.status();
  ChaosCluster& cluster = **started;
  if (options.keep_dirs) Keep(&cluster, report);
  Progress(progress, "  cluster in " + cluster.dir());

  RunClock clock;
  History history;
  WorkloadOptions workload_options;
  for (int i = 1; i <= cluster.nodes(); ++i)
    workload_options.addresses.push_back(cluster.Address(i));
  workload_options.buckets = {kLwwBucket, kSiblingsBucket};
  workload_options.keys = options.keys;
  workload_options.rate = options.rate;
  workload_options.timeout_ms = options.timeout_ms;
  workload_options.seed = seed * 1000;
  workload_options.plant_availability = Planted(options, Plant::kAvailability);
  workload_options.plant_bucket = kSiblingsBucket;
  Workload workload(&history, &clock, workload_options);
  workload.Start();

  Nemesis nemesis(&cluster, netfilter, &clock, stop);
  Status ran = PlantWrites(options, cluster, &history, clock);
  if (ran.ok()) ran = nemesis.Run(schedule);
  workload.Stop();
  Status healed = nemesis.HealAll();
  for (const std::string& line : nemesis.log()) report->log.push_back(line);
  for (const Fault& f : nemesis.skipped()) {
    report->skipped.push_back(DescribeFault(f) + " (seed " + std::to_string(seed) + ")");
  }
  if (ran.ok()) ran = healed;
  if (ran.ok()) ran = cluster.WaitAllServing(kServingTimeout);
  if (!ran.ok()) {
    Keep(&cluster, report);
    return Status::Internal("seed " + std::to_string(seed) + ": " + ran.message() + "\n" +
                            cluster.LogTails());
  }
  if (Stopped(stop)) return Status::Unavailable("interrupted");

  Progress(progress, "  healed; waiting for every replica to agree");
  const std::vector<Op> ops = history.Snapshot();
  Convergence converged = Converge(
      &cluster, KeysOf(ops), options.convergence_timeout_ms,
      Planted(options, Plant::kConvergence) ? TamperRead : std::function<void(KeyState*)>(), stop);
  report->convergence_ms.push_back(converged.ms);
  report->keys_read_repaired += converged.repaired.size();
  for (const FaultWindow& w : nemesis.windows()) {
    if (w.kind != "none") ++report->faults[w.kind];
  }

  CountOps(ops, report);
  bool ok = RunCheckers(ops, converged.states, report);
  std::map<std::string, uint32_t> w_of_bucket;
  for (const char* bucket : {kLwwBucket, kSiblingsBucket})
    w_of_bucket[bucket] = cluster.Props(bucket).w;
  std::vector<AvailabilityRow> rows;
  CheckResult availability = CheckAvailability(
      ops, nemesis.windows(),
      [&cluster](const std::string& b, const std::string& k) { return cluster.Primaries(b, k); },
      w_of_bucket, options.min_availability, &rows);
  ok = ok && availability.ok();
  Merge(std::move(availability), &report->checks);
  for (const AvailabilityRow& row : rows) {
    auto it = std::find_if(report->availability.begin(), report->availability.end(),
                           [&row](const AvailabilityRow& r) { return r.kind == row.kind; });
    if (it == report->availability.end()) {
      report->availability.push_back(row);
    } else {
      it->windows += row.windows;
      it->expected += row.expected;
      it->ok += row.ok;
    }
  }
  ++report->schedules;
  if ((!ok && options.plants.empty()) || options.keep_dirs) {
    WriteHistory(ops, nemesis.log(), cluster.dir() + "/history.txt");
  }
  if (!ok) {
    report->failed_seeds.push_back(seed);
    // A run with planted bugs fails on purpose: nothing to look at.
    if (!options.keep_dirs && options.plants.empty()) {
      Keep(&cluster, report);
    }
  }
  return Status::OK();
}

// Keys of `bucket` whose first primary is n2, with n3 a primary and n1 not:
// n1 forwards their puts to n2 first, and n3 coordinates its own.
std::vector<std::string> ReplayKeys(const ChaosCluster& cluster, const std::string& bucket,
                                    int pause, int count) {
  std::vector<std::string> keys;
  for (int i = 0; i < 100'000 && static_cast<int>(keys.size()) < count; ++i) {
    const std::string key = "pause" + std::to_string(pause) + "-" + std::to_string(i);
    const std::vector<int> p = cluster.Primaries(bucket, key);
    if (p.front() == 2 && std::count(p.begin(), p.end(), 3) == 1 &&
        std::count(p.begin(), p.end(), 1) == 0) {
      keys.push_back(key);
    }
  }
  return keys;
}

std::string Percent(uint64_t part, uint64_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f%%", whole == 0 ? 100.0 : 100.0 * part / whole);
  return buf;
}

}  // namespace

const char* PlantName(Plant plant) {
  for (const auto& p : kPlantNames) {
    if (p.plant == plant) return p.name;
  }
  return "?";
}

Result<Plant> ParsePlant(const std::string& name) {
  for (const auto& p : kPlantNames) {
    if (name == p.name) return p.plant;
  }
  std::string known;
  for (const auto& p : kPlantNames) known += std::string(p.name) + ", ";
  return Status::InvalidArgument("unknown planted bug '" + name + "' (" + known + "all)");
}

std::vector<Plant> AllPlants() {
  std::vector<Plant> plants;
  for (const auto& p : kPlantNames) plants.push_back(p.plant);
  return plants;
}

const char* CheckerFor(Plant plant) {
  for (const auto& p : kPlantNames) {
    if (p.plant == plant) return p.checker;
  }
  return "?";
}

bool ChaosReport::ok() const {
  return std::all_of(checks.begin(), checks.end(), [](const CheckResult& c) { return c.ok(); });
}

const CheckResult* ChaosReport::Check(const std::string& name) const {
  for (const CheckResult& c : checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

bool Caught(const ChaosReport& report, Plant plant) {
  const CheckResult* check = report.Check(CheckerFor(plant));
  if (check == nullptr) return false;
  switch (plant) {
    case Plant::kLost:
      return check->subjects.count(kPlantLostValue) != 0;
    case Plant::kNeverWritten:
      return check->subjects.count(kPlantPhantomValue) != 0;
    case Plant::kDuplicate:
      return check->subjects.count(kPlantDuplicateValue) != 0;
    case Plant::kLwwOrder:
      return check->subjects.count(kPlantLwwLater) != 0;
    case Plant::kConvergence:
      return check->subjects.count(std::string(kSiblingsBucket) + "/" + kPlantConvergenceKey) != 0;
    case Plant::kAvailability:
      return std::any_of(check->subjects.begin(), check->subjects.end(), [](const std::string& s) {
        return s.rfind(kPlantAvailabilityPrefix, 0) == 0;
      });
  }
  return false;
}

Result<ChaosReport> RunChaos(const ChaosOptions& options, const std::atomic<bool>* stop,
                             std::ostream* progress) {
  ChaosReport report;
  report.scenario = "schedule";
  std::unique_ptr<Netfilter> netfilter;
  if (std::any_of(options.kinds.begin(), options.kinds.end(), IsPartition)) {
    Result<std::unique_ptr<Netfilter>> opened = Netfilter::Open();
    if (opened.ok()) {
      netfilter = std::move(opened).value();
    } else {
      report.partitions_unavailable = opened.status().message();
      Progress(progress, "PARTITIONS SKIPPED: " + report.partitions_unavailable);
    }
  }
  for (int i = 0; i < options.schedules && !Stopped(stop); ++i) {
    Status st = RunSchedule(options, options.seed + static_cast<uint64_t>(i), netfilter.get(), stop,
                            progress, &report);
    if (!st.ok()) return st;
  }
  return report;
}

Result<ChaosReport> RunForwardReplay(const ForwardReplayOptions& options,
                                     const std::atomic<bool>* stop, std::ostream* progress) {
  ChaosReport report;
  report.scenario = "forward-replay";
  ChaosClusterOptions cluster_options;
  cluster_options.nodes = 5;
  // As in the issue: `ringkv-cluster start --nodes 5 --bucket l:resolver=lww`.
  cluster_options.distinct_hosts = false;
  cluster_options.buckets = {{"l", "resolver=lww"}, {"s", "resolver=siblings"}};
  cluster_options.node_binary = options.node_binary;
  Result<std::unique_ptr<ChaosCluster>> started = ChaosCluster::Start(cluster_options);
  if (!started.ok()) return started.status();
  ChaosCluster& cluster = **started;
  if (options.keep_dirs) Keep(&cluster, &report);
  Progress(progress, "cluster in " + cluster.dir());
  RunClock clock;
  History history;
  CheckResult setup("setup");
  std::vector<KeyState> states;
  for (int pause : options.pause_seconds) {
    if (Stopped(stop)) break;
    // The first forward's share of the deadline (a third: three primaries)
    // must end well within the pause, so that the next primary acknowledges
    // the write while n2 still holds the forward.
    const uint32_t old_timeout_ms = static_cast<uint32_t>(std::min(5'000, 1'500 * pause));
    std::vector<std::pair<std::string, std::string>> keys;
    for (const char* bucket : {"l", "s"}) {
      for (const std::string& key : ReplayKeys(cluster, bucket, pause, options.keys_per_pause)) {
        keys.emplace_back(bucket, key);
      }
    }
    RINGKV_RETURN_IF_ERROR(cluster.Pause(2));
    const auto paused_at = Clock::now();
    char at[32];
    std::snprintf(at, sizeof(at), "%8.3f s ", clock.NowUs() / 1e6);
    report.log.push_back(at + ("pause n2 for " + std::to_string(pause) + " s"));
    std::vector<std::pair<Op, Op>> writes(keys.size());
    std::vector<std::thread> writers;
    for (size_t i = 0; i < keys.size(); ++i) {
      writers.emplace_back([&, i] {
        const auto& [bucket, key] = keys[i];
        const std::string tag = bucket + "/" + key;
        writes[i].first = Write(cluster, &history, clock, "old-via-n1", 1, bucket, key,
                                tag + "-old", old_timeout_ms);
        if (writes[i].first.outcome != Outcome::kOk) return;
        writes[i].second = Write(cluster, &history, clock, "new-via-n3", 3, bucket, key,
                                 tag + "-new", kPlantTimeoutMs);
      });
    }
    const bool held = WaitUntil(paused_at + std::chrono::seconds(pause), stop);
    Status resumed = cluster.Resume(2);
    const int64_t resumed_us = clock.NowUs();
    for (std::thread& t : writers) t.join();
    RINGKV_RETURN_IF_ERROR(resumed);
    if (!held) break;
    std::map<std::string, int> set_up;
    std::map<std::string, std::string> why_not;  // per bucket, the last key's writes
    for (size_t i = 0; i < keys.size(); ++i) {
      const auto& [old_write, new_write] = writes[i];
      ++setup.checked;
      if (old_write.outcome == Outcome::kOk && new_write.outcome == Outcome::kOk &&
          new_write.complete_us < resumed_us) {
        ++set_up[keys[i].first];
      } else {
        why_not[keys[i].first] =
            DescribeOp(old_write) + (new_write.value.empty() ? "" : "; " + DescribeOp(new_write));
      }
    }
    for (const char* bucket : {"l", "s"}) {
      if (set_up[bucket] > 0) continue;
      setup.Violation(std::string(bucket) + "/pause" + std::to_string(pause),
                      "pause of " + std::to_string(pause) + " s, bucket " + bucket +
                          ": no key had both writes acknowledged before n2 resumed (" +
                          why_not[bucket] + ")");
    }
    Convergence converged = Converge(&cluster, keys, options.convergence_timeout_ms, {}, stop);
    report.convergence_ms.push_back(converged.ms);
    report.keys_read_repaired += converged.repaired.size();
    for (KeyState& s : converged.states) states.push_back(std::move(s));
    ++report.faults["pause"];
    ++report.schedules;
    Progress(progress, "pause " + std::to_string(pause) + " s: " + std::to_string(set_up["l"]) +
                           " lww and " + std::to_string(set_up["s"]) +
                           " siblings keys set up; converged in " + std::to_string(converged.ms) +
                           " ms");
  }
  const std::vector<Op> ops = history.Snapshot();
  CountOps(ops, &report);
  const bool ok = RunCheckers(ops, states, &report) && setup.ok();
  report.checks.push_back(std::move(setup));
  if (!ok || options.keep_dirs) WriteHistory(ops, report.log, cluster.dir() + "/history.txt");
  if (!ok && !options.keep_dirs) Keep(&cluster, &report);
  return report;
}

std::string FormatReport(const ChaosReport& report) {
  std::ostringstream out;
  out << "ringkv-chaos " << report.scenario << ": " << report.schedules
      << (report.scenario == "schedule" ? " schedule(s) run\n" : " pause(s) run\n");
  std::string faults;
  int total = 0;
  for (const auto& [kind, count] : report.faults) {
    faults += (faults.empty() ? "" : ", ") + kind + " " + std::to_string(count);
    total += count;
  }
  out << "faults injected: " << total << (faults.empty() ? "" : " (" + faults + ")") << "\n";
  if (!report.partitions_unavailable.empty()) {
    out << "PARTITIONS SKIPPED (not counted as passed): " << report.partitions_unavailable << "\n";
  }
  for (const std::string& s : report.skipped) out << "  skipped: " << s << "\n";
  out << "writes: " << report.invoked << " invoked, " << report.acknowledged << " acknowledged, "
      << report.failed << " failed, " << report.indeterminate << " indeterminate\n";
  out << "checks:\n";
  for (const CheckResult& c : report.checks) {
    char line[160];
    std::snprintf(line, sizeof(line),
                  "  %-19s %6" PRIu64 " violations of %8" PRIu64 " checked  %s\n", c.name.c_str(),
                  c.violations, c.checked, c.ok() ? "ok" : "FAIL");
    out << line;
    for (const std::string& e : c.examples) out << "      " << e << "\n";
  }
  out << "convergence after heal:";
  for (int64_t ms : report.convergence_ms) {
    out << " " << (ms < 0 ? std::string("NOT CONVERGED") : std::to_string(ms) + " ms");
  }
  out << " (" << report.keys_read_repaired << " keys needed a read at R=all)\n";
  if (!report.availability.empty()) {
    out << "availability (acknowledged / must succeed by the quorum rules, per fault):\n";
    for (const AvailabilityRow& r : report.availability) {
      char line[160];
      std::snprintf(line, sizeof(line),
                    "  %-18s %4" PRIu64 " windows %7" PRIu64 " / %-7" PRIu64 " %s\n",
                    r.kind.c_str(), r.windows, r.ok, r.expected, Percent(r.ok, r.expected).c_str());
      out << line;
    }
  }
  if (!report.ok()) {
    out << "nemesis:\n";
    for (const std::string& line : report.log) out << "  " << line << "\n";
  }
  for (const std::string& d : report.kept_dirs)
    out << "kept: " << d << " (history.txt beside the nodes)\n";
  uint64_t violations = 0;
  for (const CheckResult& c : report.checks) violations += c.violations;
  out << "verdict: "
      << (report.ok() ? "PASS" : "FAIL (" + std::to_string(violations) + " violations)");
  if (!report.partitions_unavailable.empty()) out << ", partitions SKIPPED";
  out << "\n";
  return out.str();
}

std::string ReplayCommand(const ChaosOptions& options, uint64_t seed) {
  std::ostringstream args;
  args << "--nodes " << options.nodes << " --faults " << options.faults << " --kinds ";
  for (size_t i = 0; i < options.kinds.size(); ++i) {
    args << (i ? "," : "") << FaultKindName(options.kinds[i]);
  }
  args << " --min-fault-ms " << options.min_fault_ms << " --max-fault-ms " << options.max_fault_ms
       << " --min-gap-ms " << options.min_gap_ms << " --max-gap-ms " << options.max_gap_ms
       << " --keys " << options.keys << " --rate " << options.rate << " --timeout-ms "
       << options.timeout_ms << " --min-availability " << options.min_availability
       << " --convergence-timeout-ms " << options.convergence_timeout_ms;
  if (!options.plants.empty()) {
    args << " --plant ";
    for (size_t i = 0; i < options.plants.size(); ++i) {
      args << (i ? "," : "") << PlantName(options.plants[i]);
    }
  }
  for (const auto& [name, value] : options.node_flags)
    args << " --node-flag " << name << "=" << value;
  return "make chaos SEED=" + std::to_string(seed) + " CHAOS_ARGS='" + args.str() + "'";
}

}  // namespace ringkv::chaos
