// What the ring change integration tests share (ring_change_test.cc,
// ring_failure_test.cc): flags that make changes fast, a bounded
// read/write load that records every acknowledged write, and checks key by
// key and partition by partition against `ringkv-admin ring state --json`.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "client/client.h"
#include "client/node_connection.h"
#include "common/hash.h"
#include "proto/messages.h"
#include "ring/ring.h"
#include "tests/integration/harness.h"
#include "tests/integration/test_client.h"

namespace ringkv::testing {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr char kBucket[] = "rc";
constexpr uint32_t kN = 3;

inline uint32_t PreloadKeys(uint32_t fallback = 20000) {
  const char* env = std::getenv("RINGKV_RING_KEYS");
  return env != nullptr ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : fallback;
}

// How long a change over `keys` preloaded keys may take: `base` for the
// test-sized runs, plus a second per 2,000 keys, since transfers stream a
// few thousand objects per second on a shared two-core machine.
inline std::chrono::seconds ChangeLimit(std::chrono::seconds base, uint32_t keys) {
  return base + std::chrono::seconds(keys / 2000);
}

inline std::vector<std::string> FastFlags(const std::string& mib_per_sec) {
  return {"--gossip-interval-ms", "100",     "--ring-tick-ms",
          "200",                  "--transfer-settle-ms",  "1500",
          "--transfer-cleanup-delay-ms", "1500", "--transfer-mib-per-sec", mib_per_sec};
}

// Slow transfers of small batches (about 20 objects each): tens of seconds
// for what a joining node receives, so a kill lands half way.
inline std::vector<std::string> SlowTransferFlags() {
  std::vector<std::string> flags = FastFlags("0.02");
  flags.insert(flags.end(), {"--transfer-batch-kb", "2"});
  return flags;
}

// Calls `done` every `interval` until it returns true or `limit` has
// passed; whether it did.
template <typename Done>
bool PollUntil(std::chrono::milliseconds limit, std::chrono::milliseconds interval, Done done) {
  const auto deadline = steady_clock::now() + limit;
  while (!done()) {
    if (steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
  return true;
}

inline Json ParseJson(const CommandResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  try {
    return Json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not JSON: " << r.out;
    return Json::object();
  }
}

// The placement a `ring state --json` describes.
inline Ring RingOfState(const Json& state) {
  std::vector<NodeId> members;
  for (const Json& m : state["members"]) {
    const std::string status = m["status"];
    if (status == "valid" || status == "leaving") members.push_back(m["node"]);
  }
  std::vector<NodeId> owners = state["owners"].get<std::vector<NodeId>>();
  Result<Ring> ring = Ring::FromOwners(members, owners, kN, state["epoch"]);
  EXPECT_TRUE(ring.ok()) << ring.status().ToString();
  return std::move(ring).value();
}

// (partition, node) pairs the placement `after` adds to `before`.
inline std::set<std::pair<uint32_t, NodeId>> Added(const Ring& before, const Ring& after) {
  std::set<std::pair<uint32_t, NodeId>> added;
  for (uint32_t p = 0; p < before.partitions(); ++p) {
    const auto old = before.PlacementForPartition(p, kN).primaries;
    for (const NodeId& n : after.PlacementForPartition(p, kN).primaries) {
      if (std::find(old.begin(), old.end(), n) == old.end()) added.insert({p, n});
    }
  }
  return added;
}

// Objects per partition the node at `address` holds.
inline std::vector<uint64_t> Holdings(const std::string& address) {
  NodeConnection conn(address);
  Message m;
  m.request_id = 1;
  m.timeout_ms = 10000;
  m.body = PartitionSizesRequest{};
  Result<Message> reply = conn.Call(m, steady_clock::now() + milliseconds(10000));
  EXPECT_TRUE(reply.ok()) << reply.status().ToString();
  if (!reply.ok()) return {};
  auto* sizes = std::get_if<PartitionSizesReply>(&reply->body);
  EXPECT_NE(sizes, nullptr);
  return sizes != nullptr ? sizes->keys : std::vector<uint64_t>{};
}

// The sum of the node's metric `name` over the series labelled
// direction=`direction`.
inline double MetricSum(LocalClusterFixture& cluster, int node, const std::string& name,
                        const std::string& direction) {
  Result<NodeView> view = ClientFor({cluster.Address(node)})->StatusOf(cluster.Address(node));
  EXPECT_TRUE(view.ok()) << view.status().ToString();
  double sum = 0;
  if (!view.ok()) return sum;
  for (const MetricSample& m : view->metrics) {
    const bool match = std::find(m.labels.begin(), m.labels.end(),
                                 std::pair<std::string, std::string>{"direction", direction}) !=
                       m.labels.end();
    if (m.name == name && match) sum += m.value;
  }
  return sum;
}

// Writes and reads while a ring change runs: new keys at W=2, reads of
// keys already acknowledged at R=2. Bounded in operations and time.
class Load {
 public:
  Load(std::vector<std::string> nodes, std::map<std::string, std::string>* acked,
       std::mutex* mu)
      : acked_(acked), mu_(mu) {
    thread_ = std::thread([this, nodes] { Run(nodes); });
  }
  ~Load() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t writes = 0, write_failures = 0, reads = 0, read_failures = 0, wrong_reads = 0;
  std::string first_failure;

 private:
  void Run(const std::vector<std::string>& nodes) {
    std::unique_ptr<Client> client = ClientFor(nodes);
    if (!client) return;
    std::mt19937 rng(7);
    const auto deadline = steady_clock::now() + std::chrono::minutes(5);
    for (uint64_t i = 0; !stop_ && i < 500000 && steady_clock::now() < deadline; ++i) {
      const std::string key = "load-" + std::to_string(i);
      const std::string value = "v" + std::to_string(i) + "-" + std::to_string(rng());
      WriteOptions w;
      w.w = 2;
      Result<PutResult> put = client->Put(kBucket, key, value, w);
      ++writes;
      if (put.ok()) {
        std::lock_guard<std::mutex> lock(*mu_);
        (*acked_)[key] = value;
      } else {
        ++write_failures;
        if (first_failure.empty()) first_failure = "put: " + put.status().ToString();
      }
      std::string read_key, expected;
      {
        std::lock_guard<std::mutex> lock(*mu_);
        auto it = acked_->lower_bound("k" + std::to_string(rng() % 100000));
        if (it == acked_->end()) it = acked_->begin();
        read_key = it->first;
        expected = it->second;
      }
      ReadOptions r;
      r.r = 2;
      Result<GetResult> got = client->Get(kBucket, read_key, r);
      ++reads;
      if (!got.ok()) {
        ++read_failures;
        if (first_failure.empty()) first_failure = "get: " + got.status().ToString();
      } else if (!got->found || got->values != std::vector<std::string>{expected}) {
        ++wrong_reads;
      }
    }
  }
  std::map<std::string, std::string>* acked_;
  std::mutex* mu_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class RingChangeTest : public ::testing::Test {
 protected:
  // `ringkv-cluster start` with `flags`; fails the test when it does not
  // start (call it under ASSERT_NO_FATAL_FAILURE to stop there).
  void Start(LocalClusterFixture& cluster, const std::vector<std::string>& flags) {
    CommandResult started = cluster.Start(flags);
    ASSERT_EQ(started.exit_code, 0) << started.Describe() << cluster.LogTails();
  }

  void Preload(LocalClusterFixture& cluster, uint32_t count) {
    std::unique_ptr<Client> client = ClientFor({cluster.Address(1), cluster.Address(2)});
    ASSERT_NE(client, nullptr);
    for (uint32_t i = 0; i < count; ++i) {
      const std::string key = "k" + std::to_string(i);
      const std::string value = "value-" + std::to_string(i) + std::string("\0\xff", 2);
      Result<PutResult> put = Status::Unavailable("not tried");
      // A fresh cluster may still be connecting its peers.
      for (int attempt = 0; attempt < 20 && !put.ok(); ++attempt) {
        put = client->Put(kBucket, key, value);
        if (!put.ok()) std::this_thread::sleep_for(milliseconds(100));
      }
      ASSERT_TRUE(put.ok()) << key << ": " << put.status().ToString();
      acked_[key] = value;
    }
  }

  Json State(LocalClusterFixture& cluster, int node) {
    return ParseJson(cluster.Admin(node, {"ring", "state", "--json"}));
  }

  // Polls until the ring at `node` has no change in flight and nothing
  // staged.
  Json WaitChangeDone(LocalClusterFixture& cluster, int node, std::chrono::seconds limit) {
    Json state;
    if (PollUntil(limit, milliseconds(250), [&] {
          state = State(cluster, node);
          return state["change"].is_null() && state["staged"].empty();
        })) {
      return state;
    }
    ADD_FAILURE() << "change not done in " << limit.count() << " s: " << state.dump() << "\n"
                  << cluster.LogTails();
    return state;
  }

  // Polls until every node in `nodes` holds exactly what it replicates
  // under `state` (the old copies' cleanup runs after a delay), reporting
  // the differences at the deadline.
  void WaitHoldings(LocalClusterFixture& cluster, const Json& state, const std::vector<int>& nodes,
                    std::chrono::seconds limit) {
    if (PollUntil(limit, milliseconds(250),
                  [&] { return HoldingsMatch(cluster, state, nodes, false); })) {
      return;
    }
    HoldingsMatch(cluster, state, nodes, true);
  }

  // Whether each node's objects per partition are exactly the acknowledged
  // keys of the partitions it replicates under `state`.
  bool HoldingsMatch(LocalClusterFixture& cluster, const Json& state, const std::vector<int>& nodes,
                     bool report) {
    const Ring ring = RingOfState(state);
    std::map<NodeId, std::vector<uint64_t>> expected;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [key, value] : acked_) {
        const uint32_t p = ring.PartitionOf(KeyHash(kBucket, key));
        for (const NodeId& n : ring.PlacementForPartition(p, kN).primaries) {
          auto& counts = expected[n];
          counts.resize(ring.partitions(), 0);
          ++counts[p];
        }
      }
    }
    bool match = true;
    for (int i : nodes) {
      const NodeId id = "n" + std::to_string(i);
      std::vector<uint64_t> want = expected[id];
      want.resize(ring.partitions(), 0);
      const std::vector<uint64_t> have = Holdings(cluster.Address(i));
      if (have != want) {
        match = false;
        if (report) {
          for (uint32_t p = 0; p < want.size() && p < have.size(); ++p) {
            if (have[p] != want[p]) {
              ADD_FAILURE() << id << " partition " << p << ": holds " << have[p] << ", expected "
                            << want[p];
            }
          }
        }
      }
    }
    return match;
  }

  void VerifyEveryKey(LocalClusterFixture& cluster, int node) {
    std::unique_ptr<Client> client = ClientFor({cluster.Address(node)});
    ASSERT_NE(client, nullptr);
    std::lock_guard<std::mutex> lock(mu_);
    size_t lost = 0;
    for (const auto& [key, value] : acked_) {
      ReadOptions r;
      r.r = 2;
      Result<GetResult> got = client->Get(kBucket, key, r);
      if (!got.ok() || !got->found || got->values != std::vector<std::string>{value}) {
        if (++lost <= 5) {
          ADD_FAILURE() << key << ": " << (got.ok() ? "wrong or missing value" : got.status().ToString());
        }
      }
    }
    EXPECT_EQ(lost, 0u) << "of " << acked_.size() << " acknowledged keys";
  }

  std::map<std::string, std::string> acked_;
  std::mutex mu_;
};

}  // namespace ringkv::testing
