#include "tests/chaos/workload.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>

#include "client/client.h"

namespace ringkv::chaos {
namespace {

// A writer stops here even if nobody stops it: days at any sane rate.
constexpr uint64_t kMaxWritesPerWriter = 100'000'000;

}  // namespace

std::string WorkloadKey(int i) { return "k" + std::to_string(i); }

Workload::Workload(History* history, const RunClock* clock, WorkloadOptions options)
    : history_(history), clock_(clock), options_(std::move(options)) {}

Workload::~Workload() { Stop(); }

void Workload::Start() {
  uint64_t seed = options_.seed;
  const int nodes = static_cast<int>(options_.addresses.size());
  for (int node = 1; node <= nodes; ++node) {
    for (const std::string& bucket : options_.buckets) {
      threads_.emplace_back(&Workload::Writer, this, "n" + std::to_string(node) + "/" + bucket,
                            std::vector<int>{node}, bucket, ++seed, false);
    }
  }
  if (options_.plant_availability) {
    std::vector<int> all;
    for (int node = 1; node <= nodes; ++node) all.push_back(node);
    threads_.emplace_back(&Workload::Writer, this, "plant:availability", all, options_.plant_bucket,
                          ++seed, true);
  }
}

void Workload::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void Workload::Writer(const std::string& name, std::vector<int> nodes, const std::string& bucket,
                      uint64_t seed, bool pw_all) {
  std::mt19937_64 rng(seed);
  std::vector<std::unique_ptr<Client>> clients(nodes.size());
  WriteOptions write;
  write.timeout_ms = options_.timeout_ms;
  if (pw_all) write.pw = kQuorumAll;
  const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / options_.rate));
  auto next = std::chrono::steady_clock::now();
  for (uint64_t seq = 0; seq < kMaxWritesPerWriter; ++seq) {
    {
      // Paces the writer; Stop() wakes it at once.
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_until(lock, next, [this] { return stopping_; })) return;
    }
    next = std::max(next + period, std::chrono::steady_clock::now());
    const size_t which = seq % nodes.size();
    Op op;
    op.worker = name;
    op.bucket = bucket;
    op.key = WorkloadKey(static_cast<int>(rng() % static_cast<uint64_t>(options_.keys)));
    op.value = name + "-" + std::to_string(seq);
    op.node = nodes[which];
    op.invoke_us = clock_->NowUs();
    const uint64_t id = history_->Invoke(op);
    Status status;
    std::unique_ptr<Client>& client = clients[which];
    if (client == nullptr) {
      ClientOptions options;
      options.nodes = {options_.addresses[static_cast<size_t>(op.node - 1)]};
      options.timeout_ms = options_.timeout_ms;
      options.breaker.failure_threshold = 0;
      Result<std::unique_ptr<Client>> connected = Client::Connect(options);
      if (connected.ok()) {
        client = std::move(connected).value();
      } else {
        status = connected.status();
      }
    }
    if (client != nullptr) status = client->Put(bucket, op.key, op.value, write).status();
    const Outcome outcome = status.ok()          ? Outcome::kOk
                            : status.IsTimeout() ? Outcome::kInfo
                                                 : Outcome::kFail;
    history_->Complete(id, outcome, clock_->NowUs(), status.ok() ? "" : status.ToString());
  }
}

}  // namespace ringkv::chaos
