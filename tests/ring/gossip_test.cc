// Tests for ring/gossip.h over a tiny in-test world: one virtual clock, a
// timer queue and a transport that queues encoded messages with a fixed
// latency and can drop everything a node sends. Time only moves when the
// test runs the queue, so detection times are asserted in virtual time.
#include "ring/gossip.h"

#include <cstdio>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "proto/codec.h"

namespace ringkv {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kLatencyUs = 2'000;

class World;

class FakeClock : public Clock {
 public:
  explicit FakeClock(const int64_t* now) : now_(now) {}
  int64_t WallMicros() override { return *now_; }
  int64_t MonoMicros() override { return *now_; }

 private:
  const int64_t* now_;
};

// Events (timers and deliveries) in (time, sequence) order.
class World {
 public:
  struct Event {
    int64_t at;
    uint64_t seq;
    std::function<void()> fn;
  };

  int64_t now() const { return now_; }
  const int64_t* now_ptr() const { return &now_; }

  uint64_t Push(int64_t at, std::function<void()> fn) {
    uint64_t id = ++seq_;
    events_[{at, id}] = std::move(fn);
    return id;
  }
  void Cancel(uint64_t id) {
    for (auto it = events_.begin(); it != events_.end(); ++it) {
      if (it->first.second == id) {
        events_.erase(it);
        return;
      }
    }
  }
  // Runs every event due up to `until`, then sets the clock to it.
  void RunUntil(int64_t until) {
    while (!events_.empty() && events_.begin()->first.first <= until) {
      auto it = events_.begin();
      now_ = it->first.first;
      auto fn = std::move(it->second);
      events_.erase(it);
      fn();
    }
    now_ = until;
  }
  // Runs in `step_us` slices until pred() or `deadline`; returns whether pred held.
  template <typename Pred>
  bool RunUntilTrue(Pred pred, int64_t deadline, int64_t step_us = 10'000) {
    while (now_ < deadline) {
      if (pred()) return true;
      RunUntil(std::min(deadline, now_ + step_us));
    }
    return pred();
  }

 private:
  int64_t now_ = 1'000 * kSecond;
  uint64_t seq_ = 0;
  std::map<std::pair<int64_t, uint64_t>, std::function<void()>> events_;
};

class FakeScheduler : public Scheduler {
 public:
  explicit FakeScheduler(World* w) : w_(w) {}
  TimerId RunAfter(int64_t delay_us, std::function<void()> fn) override {
    return w_->Push(w_->now() + delay_us, std::move(fn));
  }
  void Cancel(TimerId id) override { w_->Cancel(id); }

 private:
  World* w_;
};

struct Cluster;

class FakeTransport : public Transport {
 public:
  FakeTransport(Cluster* c, NodeId self) : c_(c), self_(std::move(self)) {}
  void Send(const NodeId& to, std::string bytes) override;

 private:
  Cluster* c_;
  NodeId self_;
};

struct Node {
  std::unique_ptr<FakeClock> clock;
  std::unique_ptr<FakeScheduler> scheduler;
  std::unique_ptr<FakeTransport> transport;
  std::unique_ptr<Random> random;
  MetricsRegistry metrics;
  std::unique_ptr<PeerRpc> rpc;
  std::unique_ptr<Gossiper> gossiper;
  std::vector<NodeId> ups;  // OnUp calls, in order
  std::vector<NodeId> downs;
};

struct Cluster {
  World world;
  std::vector<NodeId> names;
  std::map<NodeId, Node> nodes;
  std::set<NodeId> muted;  // everything these nodes send is dropped
  uint64_t delivered = 0;

  explicit Cluster(int n, GossipOptions options = {}) {
    for (int i = 0; i < n; ++i) names.push_back("n" + std::to_string(i));
    for (size_t i = 0; i < names.size(); ++i) Boot(names[i], 1, options, 42 + i);
  }

  void Boot(const NodeId& name, uint64_t generation, GossipOptions options, uint64_t seed) {
    Node& node = nodes[name];
    node.gossiper.reset();
    node.clock = std::make_unique<FakeClock>(world.now_ptr());
    node.scheduler = std::make_unique<FakeScheduler>(&world);
    node.transport = std::make_unique<FakeTransport>(this, name);
    node.random = std::make_unique<Random>(seed);
    node.rpc = std::make_unique<PeerRpc>(name, generation, node.clock.get(), node.scheduler.get(),
                                         node.transport.get(), node.random.get(), &node.metrics);
    node.gossiper = std::make_unique<Gossiper>(name, generation, names, options,
                                               node.clock.get(), node.scheduler.get(),
                                               node.rpc.get(), node.random.get());
    node.gossiper->SetOnUp([&node](const NodeId& p) { node.ups.push_back(p); });
    node.gossiper->SetOnDown([&node](const NodeId& p) { node.downs.push_back(p); });
    node.gossiper->Start();
  }

  Gossiper& g(const NodeId& name) { return *nodes.at(name).gossiper; }

  void Deliver(const NodeId& from, const NodeId& to, std::string bytes) {
    if (muted.count(from)) return;
    world.Push(world.now() + kLatencyUs, [this, from, to, bytes = std::move(bytes)] {
      auto it = nodes.find(to);
      if (it == nodes.end() || !it->second.gossiper) return;
      Result<Message> m = DecodeMessage(bytes);
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      const Gossip* gossip = std::get_if<Gossip>(&m->body);
      ASSERT_NE(gossip, nullptr);
      ++delivered;
      it->second.gossiper->OnGossip(from, *gossip);
    });
  }

  // `name`'s process ends: it gossips no more, and nothing it sent is still
  // delivered. Whether every other node convicts it within 60 s.
  bool CrashUntilConvicted(const NodeId& name) {
    nodes[name].gossiper->Stop();
    muted.insert(name);
    return world.RunUntilTrue([&] { return AllSee(name, false); }, world.now() + 60 * kSecond);
  }
  // `name` starts again with `generation` (its versions from 0). Whether
  // every other node sees it up within 10 s.
  bool Restart(const NodeId& name, uint64_t generation) {
    muted.erase(name);
    Boot(name, generation, GossipOptions{}, 999);
    return world.RunUntilTrue([&] { return AllSee(name, true); }, world.now() + 10 * kSecond);
  }

  // Every node other than `about` agrees on `about`'s state.
  bool AllSee(const NodeId& about, bool up) {
    for (const NodeId& n : names) {
      if (n != about && g(n).IsUp(about) != up) return false;
    }
    return true;
  }
  bool AllUp() {
    for (const NodeId& a : names) {
      for (const NodeId& b : names) {
        if (!g(a).IsUp(b)) return false;
      }
    }
    return true;
  }
};

void FakeTransport::Send(const NodeId& to, std::string bytes) {
  EXPECT_NE(to, self_);
  c_->Deliver(self_, to, std::move(bytes));
}

TEST(Gossip, AllNodesSeeEachOtherUpAndHeartbeatsSpread) {
  Cluster c(5);
  c.world.RunUntil(c.world.now() + 30 * kSecond);
  EXPECT_TRUE(c.AllUp());
  EXPECT_GT(c.delivered, 0u);
  for (const NodeId& a : c.names) {
    const Gossiper& g = c.g(a);
    EXPECT_EQ(g.heartbeats().size(), 5u) << a;
    for (const PeerState& p : g.View()) {
      EXPECT_TRUE(p.up) << a << " sees " << p.node;
      EXPECT_LT(p.phi, 8.0);
      if (p.node == a) {
        EXPECT_EQ(p.phi, 0);
      } else {
        EXPECT_TRUE(g.detector().Known(p.node));
      }
    }
    EXPECT_EQ(g.View().size(), 5u);
    EXPECT_TRUE(c.nodes[a].downs.empty());
    EXPECT_TRUE(c.nodes[a].ups.empty());
    // Own version counts rounds: about one per second.
    EXPECT_NEAR(static_cast<double>(g.heartbeats().at(a).version), 30, 2) << a;
  }
}

TEST(Gossip, DetectionAccessorsAtDefaults) {
  Cluster c(1);
  const Gossiper& g = c.g("n0");
  EXPECT_NEAR(g.ExpectedDetectionUs() / 1e6, 18.42, 0.01);
  EXPECT_NEAR(g.MaxDetectionUs() / 1e6, 36.84, 0.01);
  EXPECT_TRUE(g.IsUp("n0"));
  EXPECT_EQ(g.View().size(), 1u);
}

TEST(Gossip, SilentNodeIsMarkedDownThenUpAgainWithOnUp) {
  Cluster c(5);
  c.world.RunUntil(c.world.now() + 60 * kSecond);
  ASSERT_TRUE(c.AllUp());

  const NodeId victim = "n3";
  c.muted.insert(victim);
  const int64_t muted_at = c.world.now();
  // Each node convicts once phi reaches 8 after the last heartbeat it got;
  // that heartbeat left n3 before muted_at, and the sampled mean never
  // exceeds the 2 s cap, so MaxDetectionUs() from muted_at bounds it.
  const int64_t bound = c.g("n0").MaxDetectionUs() + kSecond;
  std::map<NodeId, int64_t> detected;
  ASSERT_TRUE(c.world.RunUntilTrue(
      [&] {
        for (const NodeId& n : c.names) {
          if (n != victim && !detected.count(n) && !c.g(n).IsUp(victim)) {
            detected[n] = c.world.now() - muted_at;
          }
        }
        return detected.size() == c.names.size() - 1;
      },
      muted_at + bound));
  int64_t first = INT64_MAX, last = 0;
  for (const auto& [n, t] : detected) {
    first = std::min(first, t);
    last = std::max(last, t);
    // Not earlier than phi allows: at least ~threshold mean intervals.
    EXPECT_GT(t, 15 * kSecond) << n;
  }
  std::printf("detection time at defaults (phi 8, 1 s gossip, 5 nodes): first %.2f s, "
              "last %.2f s after the node went silent (expected ~%.2f s + propagation)\n",
              first / 1e6, last / 1e6, c.g("n0").ExpectedDetectionUs() / 1e6);
  // The victim itself still sees everyone, and nobody else was convicted.
  for (const NodeId& n : c.names) {
    EXPECT_TRUE(c.g(victim).IsUp(n));
    for (const NodeId& m : c.names) {
      if (m != victim) {
        EXPECT_TRUE(c.g(n).IsUp(m)) << n << " about " << m;
      }
    }
  }
  // Down but still a member: listed in the view.
  bool listed = false;
  for (const PeerState& p : c.g("n0").View()) {
    if (p.node == victim) {
      listed = true;
      EXPECT_FALSE(p.up);
      EXPECT_GE(p.phi, 8.0);
    }
  }
  EXPECT_TRUE(listed);
  // OnDown fires by the next round.
  c.world.RunUntil(c.world.now() + 2 * kSecond);
  for (const NodeId& n : c.names) {
    if (n == victim) continue;
    EXPECT_EQ(c.nodes[n].downs, std::vector<NodeId>{victim}) << n;
  }

  // Resume: the victim's heartbeats flow again (it is still gossiping and
  // others still gossip to it, so its version moved on).
  c.muted.erase(victim);
  const int64_t resumed_at = c.world.now();
  ASSERT_TRUE(c.world.RunUntilTrue([&] { return c.AllSee(victim, true); },
                                   resumed_at + 10 * kSecond));
  std::printf("back up everywhere %.2f s after resuming\n",
              (c.world.now() - resumed_at) / 1e6);
  for (const NodeId& n : c.names) {
    if (n == victim) continue;
    EXPECT_EQ(c.nodes[n].ups, std::vector<NodeId>{victim}) << n;
  }
  // And it stays up.
  c.world.RunUntil(c.world.now() + 60 * kSecond);
  EXPECT_TRUE(c.AllUp());
}

TEST(Gossip, RestartedNodeWithHigherGenerationIsAccepted) {
  Cluster c(5);
  c.world.RunUntil(c.world.now() + 30 * kSecond);
  ASSERT_TRUE(c.AllUp());
  const NodeId victim = "n1";
  const uint64_t old_version = c.g("n0").heartbeats().at(victim).version;
  ASSERT_GT(old_version, 10u);

  // Crash: the process is gone long enough to be convicted.
  ASSERT_TRUE(c.CrashUntilConvicted(victim));
  // Restart with a new generation: versions start again from 0.
  ASSERT_TRUE(c.Restart(victim, 2));
  for (const NodeId& n : c.names) {
    if (n == victim) continue;
    const Heartbeat& hb = c.g(n).heartbeats().at(victim);
    EXPECT_EQ(hb.generation, 2u) << n;
    EXPECT_LT(hb.version, old_version) << n;
    EXPECT_EQ(c.nodes[n].ups, std::vector<NodeId>{victim}) << n;
  }
  // The restarted node learns the others (it starts with none heard).
  c.world.RunUntil(c.world.now() + 20 * kSecond);
  EXPECT_TRUE(c.AllUp());
  EXPECT_EQ(c.g(victim).heartbeats().size(), 5u);
}

TEST(Gossip, StaleAndForeignHeartbeatsAreIgnored) {
  Cluster c(3);
  Gossiper& g = c.g("n0");
  g.OnGossip("n2", Gossip{7, {Heartbeat{"n1", 5, 10}}});
  EXPECT_EQ(g.ring_epoch_seen(), 7u);
  // Older version, older generation: no change.
  g.OnGossip("n2", Gossip{0, {Heartbeat{"n1", 5, 9}, Heartbeat{"n1", 4, 100}}});
  EXPECT_EQ(g.heartbeats().at("n1"), (Heartbeat{"n1", 5, 10}));
  // Non-member and a forged self heartbeat: ignored, membership unchanged.
  g.OnGossip("n2", Gossip{0, {Heartbeat{"stranger", 1, 1}, Heartbeat{"n0", 99, 99}}});
  EXPECT_EQ(g.heartbeats().count("stranger"), 0u);
  EXPECT_EQ(g.heartbeats().at("n0").generation, 1u);
  EXPECT_EQ(g.members().size(), 3u);
  // Newer generation with a lower version wins.
  g.OnGossip("n2", Gossip{0, {Heartbeat{"n1", 6, 1}}});
  EXPECT_EQ(g.heartbeats().at("n1"), (Heartbeat{"n1", 6, 1}));
}

// A dead member's last heartbeat, relayed to a node that just started,
// makes it look up (a first arrival) but is no evidence that it lives;
// its heartbeat advancing is. The claimant marks a down member valid
// again only on that evidence.
TEST(Gossip, ARelayedStaleHeartbeatIsNoEvidenceOfLife) {
  Cluster c(3);
  Gossiper& g = c.g("n0");
  EXPECT_TRUE(g.HeardAlive("n0"));
  EXPECT_FALSE(g.HeardAlive("n1"));  // never heard
  g.OnGossip("n2", Gossip{0, {Heartbeat{"n1", 5, 10}}});
  EXPECT_TRUE(g.IsUp("n1"));
  EXPECT_FALSE(g.HeardAlive("n1"));
  // The same record relayed again: nothing new.
  g.OnGossip("n2", Gossip{0, {Heartbeat{"n1", 5, 10}}});
  EXPECT_FALSE(g.HeardAlive("n1"));
  // A restarted incarnation's first beat starts over.
  g.OnGossip("n1", Gossip{0, {Heartbeat{"n1", 6, 1}}});
  EXPECT_FALSE(g.HeardAlive("n1"));
  g.OnGossip("n1", Gossip{0, {Heartbeat{"n1", 6, 2}}});
  EXPECT_TRUE(g.HeardAlive("n1"));
}

// A member's ring epoch rides on its heartbeat, so a node learns it from
// any peer relaying a newer beat, not only from the member itself (with
// 120 members that took minutes); an older beat changes nothing.
TEST(Gossip, RingEpochsSpreadWithRelayedHeartbeats) {
  Cluster c(3);
  Gossiper& g = c.g("n0");
  g.OnGossip("n2", Gossip{3, {Heartbeat{"n1", 5, 10, 7}}});
  EXPECT_EQ(g.ring_epochs().at("n1"), 7u);
  EXPECT_EQ(g.ring_epochs().at("n2"), 3u);
  g.OnGossip("n2", Gossip{3, {Heartbeat{"n1", 5, 9, 2}}});
  EXPECT_EQ(g.ring_epochs().at("n1"), 7u);
  // The sender's own word is its gossip's epoch.
  g.OnGossip("n1", Gossip{9, {Heartbeat{"n1", 5, 11, 8}}});
  EXPECT_EQ(g.ring_epochs().at("n1"), 9u);
  // Every node's beats carry its epoch: in a running cluster each learns
  // every other's.
  for (const char* n : {"n0", "n1", "n2"}) c.g(n).set_ring_epoch(4);
  c.world.RunUntil(c.world.now() + 10 * kSecond);
  for (const char* n : {"n0", "n1", "n2"}) {
    for (const char* m : {"n0", "n1", "n2"}) {
      if (std::string(n) != m) EXPECT_EQ(c.g(n).ring_epochs().at(m), 4u) << n << " of " << m;
    }
  }
}

// A node's own word about itself overrides a record no real heartbeat of
// it can explain; ordinary reordering within kMaxVersionLead does not.
TEST(Gossip, ANodesOwnWordOverridesAContradictingRecord) {
  Cluster c(3);
  Gossiper& g = c.g("n0");
  g.OnGossip("n2", Gossip{0, {Heartbeat{"n1", 9, 9}}});
  g.OnGossip("n1", Gossip{0, {Heartbeat{"n1", 5, 3}}});
  EXPECT_EQ(g.heartbeats().at("n1"), (Heartbeat{"n1", 5, 3}));
  g.OnGossip("n2", Gossip{0, {Heartbeat{"n1", 5, 5000}}});
  g.OnGossip("n1", Gossip{0, {Heartbeat{"n1", 5, 10}}});
  EXPECT_EQ(g.heartbeats().at("n1"), (Heartbeat{"n1", 5, 10}));
  g.OnGossip("n2", Gossip{0, {Heartbeat{"n1", 5, 20}}});
  g.OnGossip("n1", Gossip{0, {Heartbeat{"n1", 5, 15}}});
  EXPECT_EQ(g.heartbeats().at("n1"), (Heartbeat{"n1", 5, 20}));
  // Only the node itself: a third node's lower word about n1 changes nothing.
  g.OnGossip("n2", Gossip{0, {Heartbeat{"n1", 1, 1}}});
  EXPECT_EQ(g.heartbeats().at("n1"), (Heartbeat{"n1", 5, 20}));
}

// Issue 12: one gossip message carrying n1's heartbeat at generation and
// version 2^64-1 (here from n3, an authenticated but buggy peer, to every
// node) used to outrank every real heartbeat of n1 for good: n1 was held
// down even after a restart. Its restart now wins at its first gossip.
TEST(Gossip, AHeartbeatFromTheFutureCannotHoldARestartedNodeDown) {
  Cluster c(5);
  c.world.RunUntil(c.world.now() + 30 * kSecond);
  ASSERT_TRUE(c.AllUp());
  const NodeId victim = "n1";
  const uint64_t kMax = ~uint64_t{0};
  for (const NodeId& n : c.names) {
    if (n != victim) c.g(n).OnGossip("n3", Gossip{0, {Heartbeat{victim, kMax, kMax}}});
  }
  ASSERT_TRUE(c.CrashUntilConvicted(victim));
  ASSERT_TRUE(c.Restart(victim, 2));
  // And it stays up, the forged entry gone from every node.
  c.world.RunUntil(c.world.now() + 60 * kSecond);
  EXPECT_TRUE(c.AllUp());
  for (const NodeId& n : c.names) {
    if (n == victim) continue;
    EXPECT_EQ(c.g(n).heartbeats().at(victim).generation, 2u) << n;
  }
}

// The same with the real generation and version 2^64-1: the live node is
// never marked down, though its real versions are all lower.
TEST(Gossip, AForgedVersionCannotHoldALiveNodeDown) {
  Cluster c(5);
  c.world.RunUntil(c.world.now() + 30 * kSecond);
  ASSERT_TRUE(c.AllUp());
  const NodeId victim = "n1";
  for (const NodeId& n : c.names) {
    if (n != victim) c.g(n).OnGossip("n3", Gossip{0, {Heartbeat{victim, 1, ~uint64_t{0}}}});
  }
  c.world.RunUntil(c.world.now() + 90 * kSecond);
  for (const NodeId& n : c.names) {
    if (n == victim) continue;
    EXPECT_TRUE(c.g(n).IsUp(victim)) << n;
    EXPECT_EQ(c.nodes[n].downs, std::vector<NodeId>{}) << n;
    EXPECT_LT(c.g(n).heartbeats().at(victim).version, 1000u) << n;
  }
}

TEST(Gossip, NeverHeardNodeIsUpDuringGraceThenDown) {
  Cluster c(3);
  c.muted.insert("n2");  // n2 never reaches anyone
  const int64_t start = c.world.now();
  const int64_t grace = c.g("n0").ExpectedDetectionUs();
  c.world.RunUntil(start + grace - kSecond);
  EXPECT_TRUE(c.g("n0").IsUp("n2"));
  EXPECT_FALSE(c.g("n0").detector().Known("n2"));
  c.world.RunUntil(start + grace + kSecond);
  EXPECT_FALSE(c.g("n0").IsUp("n2"));
  EXPECT_FALSE(c.g("n1").IsUp("n2"));
  EXPECT_TRUE(c.g("n0").IsUp("n1"));
  // The same answers through the Liveness interface coordinators use.
  const Liveness* liveness = &c.g("n0");
  EXPECT_FALSE(liveness->IsUp("n2"));
  EXPECT_TRUE(liveness->IsUp("n0"));
}

TEST(Gossip, StopCancelsRounds) {
  Cluster c(3);
  c.world.RunUntil(c.world.now() + 5 * kSecond);
  c.g("n0").Stop();
  uint64_t rounds = c.g("n0").rounds();
  c.world.RunUntil(c.world.now() + 5 * kSecond);
  EXPECT_EQ(c.g("n0").rounds(), rounds);
  c.g("n0").Stop();  // idempotent
  c.g("n0").Start();
  c.world.RunUntil(c.world.now() + 5 * kSecond);
  EXPECT_GT(c.g("n0").rounds(), rounds);
}

}  // namespace
}  // namespace ringkv
