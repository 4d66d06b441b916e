#include "tests/chaos/nemesis.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <thread>

namespace ringkv::chaos {
namespace {

struct KindName {
  FaultKind kind;
  const char* name;
};
constexpr KindName kKindNames[] = {
    {FaultKind::kKill, "kill"},
    {FaultKind::kPause, "pause"},
    {FaultKind::kWipe, "wipe"},
    {FaultKind::kPartitionPair, "partition-pair"},
    {FaultKind::kPartitionIsolate, "partition-isolate"},
    {FaultKind::kPartitionHalves, "partition-halves"},
};

std::string NodeList(const std::vector<int>& nodes) {
  std::string out;
  for (int n : nodes) out += (out.empty() ? "n" : ",n") + std::to_string(n);
  return out;
}

// The pairs a partition cuts, as (a, b) with a < b.
std::set<std::pair<int, int>> CutsOf(const Fault& fault, int nodes) {
  std::set<std::pair<int, int>> cuts;
  auto cut = [&cuts](int a, int b) { cuts.insert({std::min(a, b), std::max(a, b)}); };
  switch (fault.kind) {
    case FaultKind::kPartitionPair:
      cut(fault.nodes[0], fault.nodes[1]);
      break;
    case FaultKind::kPartitionIsolate:
    case FaultKind::kPartitionHalves:
      for (int a : fault.nodes) {
        for (int b = 1; b <= nodes; ++b) {
          if (std::find(fault.nodes.begin(), fault.nodes.end(), b) == fault.nodes.end()) cut(a, b);
        }
      }
      break;
    default:
      break;
  }
  return cuts;
}

}  // namespace

const char* FaultKindName(FaultKind kind) {
  for (const KindName& k : kKindNames) {
    if (k.kind == kind) return k.name;
  }
  return "?";
}

Result<FaultKind> ParseFaultKind(const std::string& name) {
  for (const KindName& k : kKindNames) {
    if (name == k.name) return k.kind;
  }
  std::string known;
  for (const KindName& k : kKindNames) known += (known.empty() ? "" : ", ") + std::string(k.name);
  return Status::InvalidArgument("unknown fault '" + name + "' (" + known + ")");
}

bool IsPartition(FaultKind kind) {
  return kind == FaultKind::kPartitionPair || kind == FaultKind::kPartitionIsolate ||
         kind == FaultKind::kPartitionHalves;
}

std::vector<FaultKind> AllFaultKinds() {
  std::vector<FaultKind> kinds;
  for (const KindName& k : kKindNames) kinds.push_back(k.kind);
  return kinds;
}

std::string DescribeFault(const Fault& fault) {
  char duration[32];
  std::snprintf(duration, sizeof(duration), " for %.1f s", fault.duration_ms / 1e3);
  std::string what = FaultKindName(fault.kind);
  switch (fault.kind) {
    case FaultKind::kPartitionPair:
      what += " " + NodeList({fault.nodes[0]}) + " | " + NodeList({fault.nodes[1]});
      break;
    case FaultKind::kPartitionIsolate:
    case FaultKind::kPartitionHalves:
      what += " " + NodeList(fault.nodes) + " | the rest";
      break;
    default:
      what += " " + NodeList(fault.nodes);
      break;
  }
  return what + duration;
}

bool WaitUntil(std::chrono::steady_clock::time_point until, const std::atomic<bool>* stop) {
  while (stop == nullptr || !stop->load()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    // Short steps, so that a stop is seen within 50 ms.
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(50)));
  }
  return false;
}

std::vector<Fault> MakeSchedule(const ScheduleOptions& options) {
  std::mt19937_64 rng(options.seed);
  auto uniform = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, std::max(lo, hi))(rng);
  };
  std::vector<FaultKind> first = options.kinds;
  std::shuffle(first.begin(), first.end(), rng);
  std::vector<Fault> schedule;
  bool wiped = false;
  for (int i = 0; i < options.faults && !options.kinds.empty(); ++i) {
    Fault fault;
    fault.kind = static_cast<size_t>(i) < first.size()
                     ? first[static_cast<size_t>(i)]
                     : options.kinds[static_cast<size_t>(uniform(0, options.kinds.size() - 1))];
    if (fault.kind == FaultKind::kWipe && wiped) fault.kind = FaultKind::kKill;
    wiped = wiped || fault.kind == FaultKind::kWipe;
    std::vector<int> nodes;
    for (int n = 1; n <= options.nodes; ++n) nodes.push_back(n);
    std::shuffle(nodes.begin(), nodes.end(), rng);
    switch (fault.kind) {
      case FaultKind::kPartitionPair:
        fault.nodes = {nodes[0], nodes[1]};
        break;
      case FaultKind::kPartitionHalves:
        fault.nodes.assign(nodes.begin(), nodes.begin() + options.nodes / 2);
        std::sort(fault.nodes.begin(), fault.nodes.end());
        break;
      default:
        fault.nodes = {nodes[0]};
        break;
    }
    fault.gap_ms = uniform(options.min_gap_ms, options.max_gap_ms);
    fault.duration_ms = uniform(options.min_fault_ms, options.max_fault_ms);
    schedule.push_back(std::move(fault));
  }
  return schedule;
}

Nemesis::Nemesis(ChaosCluster* cluster, Netfilter* netfilter, const RunClock* clock,
                 const std::atomic<bool>* stop)
    : cluster_(cluster), netfilter_(netfilter), clock_(clock), stop_(stop) {}

void Nemesis::Note(const std::string& what) {
  char at[32];
  std::snprintf(at, sizeof(at), "%8.3f s ", clock_->NowUs() / 1e6);
  log_.push_back(at + what);
}

bool Nemesis::Hold(int64_t ms) const {
  return WaitUntil(std::chrono::steady_clock::now() + std::chrono::milliseconds(ms), stop_);
}

Status Nemesis::Inject(const Fault& fault, FaultWindow* window) {
  window->kind = FaultKindName(fault.kind);
  const int victim = fault.nodes.front();
  switch (fault.kind) {
    case FaultKind::kKill:
      window->down.insert(victim);
      return cluster_->Kill(victim);
    case FaultKind::kPause:
      window->down.insert(victim);
      return cluster_->Pause(victim);
    case FaultKind::kWipe:
      window->down.insert(victim);
      RINGKV_RETURN_IF_ERROR(cluster_->Kill(victim));
      return cluster_->Wipe(victim);
    case FaultKind::kPartitionPair:
    case FaultKind::kPartitionIsolate:
    case FaultKind::kPartitionHalves:
      window->cuts = CutsOf(fault, cluster_->nodes());
      for (const auto& [a, b] : window->cuts) {
        RINGKV_RETURN_IF_ERROR(netfilter_->Cut(cluster_->EndpointOf(a), cluster_->EndpointOf(b)));
      }
      return Status::OK();
  }
  return Status::OK();
}

Status Nemesis::Run(const std::vector<Fault>& schedule) {
  FaultWindow calm;
  calm.kind = "none";
  calm.start_us = clock_->NowUs();
  for (const Fault& fault : schedule) {
    if (!Hold(fault.gap_ms)) break;
    if (IsPartition(fault.kind) && netfilter_ == nullptr) {
      // Said loudly in the summary; never counted as a fault that passed.
      Note("SKIPPED " + DescribeFault(fault) + ": partitions unavailable");
      skipped_.push_back(fault);
      continue;
    }
    calm.end_us = clock_->NowUs();
    windows_.push_back(calm);
    FaultWindow window;
    Note(DescribeFault(fault));
    Status injected = Inject(fault, &window);
    if (!injected.ok()) {
      Note("could not inject: " + injected.message());
      return injected;
    }
    window.start_us = clock_->NowUs();
    const bool held = Hold(fault.duration_ms);
    window.end_us = clock_->NowUs();
    windows_.push_back(window);
    Note("heal");
    RINGKV_RETURN_IF_ERROR(HealAll());
    calm = FaultWindow();
    calm.kind = "none";
    calm.start_us = clock_->NowUs();
    if (!held) return Status::OK();
  }
  if (!Stopped()) {
    calm.end_us = clock_->NowUs();
    windows_.push_back(calm);
  }
  return Status::OK();
}

Status Nemesis::HealAll() {
  Status first;
  auto keep = [&first](Status st) {
    if (first.ok() && !st.ok()) first = std::move(st);
  };
  if (netfilter_ != nullptr) keep(netfilter_->HealAll());
  for (int node = 1; node <= cluster_->nodes(); ++node) {
    if (cluster_->Paused(node)) {
      keep(cluster_->Resume(node));
    } else if (!cluster_->Running(node)) {
      keep(cluster_->Restart(node));
    }
  }
  if (!first.ok()) Note("heal failed: " + first.message());
  return first;
}

}  // namespace ringkv::chaos
