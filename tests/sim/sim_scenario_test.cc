// The simulation suite: determinism, every scenario over a range of seeds,
// a 120-node Q=1024 cluster, and planted bugs that each checker must catch.
// A failing case prints its seed and the command that replays it.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "proto/codec.h"
#include "replication/object_codec.h"
#include "storage/keys.h"
#include "storage/record.h"
#include "tests/sim/scenario.h"

namespace ringkv::sim {
namespace {

std::string Explain(const ScenarioConfig& c, const ScenarioResult& r) {
  return r.Summary() + "replay: " + ReplayCommand(c) + "\n";
}

ScenarioResult RunSeed(const std::string& name, uint64_t seed) {
  ScenarioConfig c;
  c.name = name;
  c.seed = seed;
  return RunScenario(c);
}

TEST(SimDeterminismTest, SameSeedSameTraceDifferentSeedsDiffer) {
  for (const char* name : {"basic", "chaos", "availability"}) {
    ScenarioResult a = RunSeed(name, 7), b = RunSeed(name, 7), c = RunSeed(name, 8);
    EXPECT_EQ(a.trace_hash, b.trace_hash) << name;
    EXPECT_EQ(a.events, b.events) << name;
    EXPECT_NE(a.trace_hash, c.trace_hash) << name;
  }
}

// Seeds per scenario in `make test`; `make soak` runs the soak suite.
constexpr int kSeedsPerScenario = 40;

class SimScenarioTest : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(SimScenarioTest, AllCheckersPass) {
  ScenarioConfig c;
  c.name = std::get<0>(GetParam());
  c.seed = 1000 + std::get<1>(GetParam());
  ScenarioResult r = RunScenario(c);
  EXPECT_TRUE(r.ok) << Explain(c, r);
  EXPECT_GT(r.ops_ok, 0u) << Explain(c, r);
}

INSTANTIATE_TEST_SUITE_P(
    Seeds, SimScenarioTest,
    ::testing::Combine(::testing::Values("basic", "network", "crash", "wipe", "disk", "clock",
                                         "chaos", "availability", "siblings"),
                       ::testing::Range(0, kSeedsPerScenario)),
    [](const auto& info) {
      return std::get<0>(info.param) + "_seed" + std::to_string(1000 + std::get<1>(info.param));
    });

TEST(SimLargeTest, HundredTwentyNodesQ1024) {
  ScenarioConfig c;
  c.name = "large";
  c.seed = 5;
  ScenarioResult r = RunScenario(c);
  EXPECT_TRUE(r.ok) << Explain(c, r);
  EXPECT_GT(r.ops_ok, 500u);
  EXPECT_GT(r.faults, 5u);
}

// Regression seeds: runs that once found a defect (see docs/simulation.md).
TEST(SimRegressionTest, KnownSeeds) {
  for (auto [name, seed] : std::vector<std::pair<std::string, uint64_t>>{
           {"chaos", 41}, {"disk", 20}, {"crash", 1}, {"network", 1}}) {
    ScenarioResult r = RunSeed(name, seed);
    ScenarioConfig c;
    c.name = name;
    c.seed = seed;
    EXPECT_TRUE(r.ok) << Explain(c, r);
  }
}

// ---------------------------------------------------------------- planted bugs
//
// Each defect lives in the simulated environment (a wrapper), never in
// replication/; the checker named must report it.

bool CheckFailed(const ScenarioResult& r, const std::string& prefix) {
  for (const auto& name : r.Failed()) {
    if (name.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// A transport that swallows replica writes and answers them itself, as a
// coordinator acknowledging after fewer than W real copies would.
class FakeAckTransport : public Transport {
 public:
  FakeAckTransport(int self, Transport* base, SimCluster* cluster)
      : self_(self), base_(base), cluster_(cluster) {}
  void Send(const NodeId& to, std::string bytes) override {
    auto m = DecodeMessage(bytes);
    if (m.ok() && std::holds_alternative<ReplicaPutRequest>(m->body) &&
        std::get<ReplicaPutRequest>(m->body).hint_for.empty()) {
      Message ack;
      ack.request_id = m->request_id;
      ack.from = to;
      ack.body = ReplicaPutReply{Status::OK()};
      cluster_->Inject(cluster_->IndexOf(to), self_, EncodeMessage(ack));
      return;
    }
    base_->Send(to, std::move(bytes));
  }

 private:
  int self_;
  Transport* base_;
  SimCluster* cluster_;
};

TEST(SimPlantedBugTest, AckWithoutReplicasLosesWritesAfterWipe) {
  int caught = 0;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    ScenarioConfig c;
    c.name = "basic";
    c.seed = seed;
    c.tweak_cluster = [](ClusterOptions* o) {
      o->wrap_transport = [](int i, Transport* base, SimCluster* cluster) {
        return std::make_unique<FakeAckTransport>(i, base, cluster);
      };
    };
    // Wipe two nodes' disks mid-run: the only copies of what they coordinated.
    c.after_start = [](SimCluster* cluster, History*) {
      cluster->world().queue().At(6'000'000, [cluster] {
        for (int i : {0, 1}) {
          cluster->Kill(i, true);
          cluster->Wipe(i);
          cluster->Restart(i);
        }
      });
    };
    caught += CheckFailed(RunScenario(c), "no-lost-writes") ? 1 : 0;
  }
  EXPECT_EQ(caught, 3);
}

// A disk that drops one sibling of every multi-sibling object it writes
// (keeping the context, so the dot looks superseded).
void DropOneSibling(WriteBatch* batch) {
  WriteBatch out;
  for (const auto& op : batch->ops()) {
    if (op.is_delete || op.key.empty() || op.key[0] != kObjectTag) {
      op.is_delete ? out.Delete(op.key) : out.Put(op.key, op.value);
      continue;
    }
    auto body = DecodeRecord(op.value);
    auto obj = body.ok() ? DecodeObject(*body) : Result<Object>(body.status());
    if (!obj.ok() || obj->siblings.size() < 2) {
      out.Put(op.key, op.value);
      continue;
    }
    obj->siblings.erase(obj->siblings.begin());
    out.Put(op.key, EncodeRecord(EncodeObject(*obj)));
  }
  *batch = out;
}

TEST(SimPlantedBugTest, MergeDroppingASiblingIsCaught) {
  ScenarioConfig c;
  c.name = "basic";
  c.seed = 3;
  c.tweak_workload = [](WorkloadOptions* w) {
    w->put_pct = 100;  // blind writes only: nothing may disappear
  };
  c.after_start = [](SimCluster* cluster, History*) {
    cluster->disk(2).set_mutate(DropOneSibling);
  };
  ScenarioResult r = RunScenario(c);
  EXPECT_TRUE(CheckFailed(r, "no-lost-writes")) << r.Summary();
}

TEST(SimPlantedBugTest, DiskThatLiesAboutWritesBreaksConvergence) {
  ScenarioConfig c;
  c.name = "basic";
  c.seed = 4;
  c.after_start = [](SimCluster* cluster, History*) {
    cluster->disk(1).set_mutate([](WriteBatch* b) { *b = WriteBatch(); });
  };
  ScenarioResult r = RunScenario(c);
  EXPECT_TRUE(CheckFailed(r, "convergence")) << r.Summary();
  EXPECT_TRUE(CheckFailed(r, "no-lost-writes")) << r.Summary();
}

// Restarts nodes 0 and 1 mid-run on empty disks; `same_incarnation` is the
// kv679 mistake.
ScenarioConfig WipeMidRun(uint64_t seed, bool same_incarnation) {
  ScenarioConfig c;
  c.name = "basic";
  c.seed = seed;
  c.tweak_cluster = [same_incarnation](ClusterOptions* o) {
    o->reuse_incarnation_after_wipe = same_incarnation;
  };
  c.tweak_workload = [](WorkloadOptions* w) {
    w->put_pct = 30;
    w->rmw_pct = 60;
  };
  c.after_start = [](SimCluster* cluster, History* history) {
    cluster->world().queue().At(5'000'000, [cluster, history] {
      cluster->Kill(0, true);
      cluster->Wipe(0);
      cluster->Restart(0);
      // Blind writes through the wiped node before anything repairs it.
      auto client = std::make_shared<Client>(cluster, history, 300);
      for (int k = 0; k < 16; ++k) {
        client->Put(0, "b", "k" + std::to_string(k), "after-wipe-" + std::to_string(k), {}, 0,
                    1000, [client](const Op&) {});
      }
    });
  };
  return c;
}

TEST(SimPlantedBugTest, ReusedIncarnationAfterWipeLosesWrites) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    ScenarioResult good = RunScenario(WipeMidRun(seed, false));
    EXPECT_TRUE(good.ok) << good.Summary();
    ScenarioResult bad = RunScenario(WipeMidRun(seed, true));
    EXPECT_TRUE(CheckFailed(bad, "no-lost-writes")) << bad.Summary();
  }
}

TEST(SimPlantedBugTest, MissingFsyncLosesWritesOnPowerLoss) {
  for (bool sync : {true, false}) {
    ScenarioConfig c;
    c.name = "basic";
    c.seed = 9;
    c.tweak_cluster = [sync](ClusterOptions* o) { o->sync_writes = sync; };
    c.after_start = [](SimCluster* cluster, History*) {
      cluster->world().queue().At(5'000'000, [cluster] {
        for (int i = 0; i < cluster->size(); ++i) cluster->Kill(i, true);
        for (int i = 0; i < cluster->size(); ++i) cluster->Restart(i);
      });
    };
    ScenarioResult r = RunScenario(c);
    EXPECT_EQ(CheckFailed(r, "no-lost-writes"), !sync) << r.Summary();
  }
}

TEST(SimPlantedBugTest, LostTimersAreHangs) {
  ScenarioConfig c;
  c.name = "crash";
  c.seed = 2;
  c.tweak_cluster = [](ClusterOptions* o) { o->lose_timers = true; };
  ScenarioResult r = RunScenario(c);
  EXPECT_TRUE(CheckFailed(r, "no-hangs")) << r.Summary();
}

// Replies to replica reads that never arrive: gets that had a reachable
// quorum fail, which the availability checker must report.
class DropReadRepliesTransport : public Transport {
 public:
  explicit DropReadRepliesTransport(Transport* base) : base_(base) {}
  void Send(const NodeId& to, std::string bytes) override {
    auto m = DecodeMessage(bytes);
    if (m.ok() && std::holds_alternative<ReplicaGetReply>(m->body)) return;
    base_->Send(to, std::move(bytes));
  }

 private:
  Transport* base_;
};

TEST(SimPlantedBugTest, UnansweredReadsBreakAvailability) {
  ScenarioConfig c;
  c.name = "availability";
  c.seed = 1;
  c.tweak_cluster = [](ClusterOptions* o) {
    o->wrap_transport = [](int i, Transport* base, SimCluster*) {
      return i == 0 ? std::make_unique<DropReadRepliesTransport>(base)
                    : std::unique_ptr<Transport>();
    };
  };
  ScenarioResult r = RunScenario(c);
  EXPECT_TRUE(CheckFailed(r, "availability")) << r.Summary();
}

}  // namespace
}  // namespace ringkv::sim
