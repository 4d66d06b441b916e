// Unit tests of the simulator's core: event order, cancellation, process
// life cycle (kill, pause, busy), clocks, scheduler, network faults, disk
// faults, and trace determinism. No protocol code involved.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "storage/memory_storage.h"
#include "tests/sim/buggify.h"
#include "tests/sim/event_queue.h"
#include "tests/sim/sim_clock.h"
#include "tests/sim/sim_disk.h"
#include "tests/sim/sim_network.h"
#include "tests/sim/sim_scheduler.h"
#include "tests/sim/sim_world.h"

namespace ringkv::sim {
namespace {

TEST(EventQueueTest, RunsInTimeThenSequenceOrder) {
  EventQueue q;
  std::vector<int> order;
  q.At(20, [&] { order.push_back(3); });
  q.At(10, [&] { order.push_back(1); });
  q.At(10, [&] { order.push_back(2); });
  q.At(5, [&] { q.After(5, [&] { order.push_back(4); }); });
  while (q.Step()) {}
  // The event scheduled at t=5 for t=10 was sequenced after the other two.
  EXPECT_EQ(order, (std::vector<int>{1, 2, 4, 3}));
  EXPECT_EQ(q.now(), 20);
  EXPECT_EQ(q.events_run(), 5u);
}

TEST(EventQueueTest, CancelAndRunUntil) {
  EventQueue q;
  int fired = 0;
  EventId a = q.At(10, [&] { ++fired; });
  q.At(30, [&] { ++fired; });
  q.Cancel(a);
  q.Cancel(a);
  q.Cancel(12345);
  q.RunUntil(20);
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(q.now(), 20);
  EXPECT_FALSE(q.RunUntilQuiet(25));
  EXPECT_TRUE(q.RunUntilQuiet(100));
  EXPECT_EQ(fired, 1);
}

TEST(SimProcessTest, KillDropsPendingAndPauseHolds) {
  SimWorld w(1);
  SimProcess p(&w, 0);
  int fired = 0;
  p.Post(10, "t", 0, [&] { ++fired; });
  p.Kill();
  p.Start();
  p.Post(10, "t", 0, [&] { ++fired; });
  w.queue().RunUntil(5);
  p.Pause();
  w.queue().RunUntil(100);
  EXPECT_EQ(fired, 0);
  p.Resume();
  w.queue().RunUntil(100);
  EXPECT_EQ(fired, 1);
}

TEST(SimProcessTest, CancelWhileHeldAndBusyDefers) {
  SimWorld w(1);
  SimProcess p(&w, 0);
  int fired = 0;
  EventId id = p.Post(10, "t", 0, [&] { ++fired; });
  p.Pause();
  w.queue().RunUntil(50);
  p.Cancel(id);
  p.Resume();
  w.queue().RunUntil(100);
  EXPECT_EQ(fired, 0);
  p.AddBusy(1000);
  int64_t ran_at = -1;
  p.Post(1, "t", 0, [&] { ran_at = w.now(); });
  w.queue().RunUntilQuiet(1 << 30);
  EXPECT_EQ(ran_at, 1100);
}

TEST(SimClockTest, OffsetAndDrift) {
  EventQueue q;
  SimClock fast(&q, 5000, 1000);  // +1000 ppm
  SimClock slow(&q, -5000, -1000);
  q.RunUntil(1000000);
  EXPECT_EQ(fast.MonoMicros() - kSimMonoOriginUs, 1001000);
  EXPECT_EQ(slow.MonoMicros() - kSimMonoOriginUs, 999000);
  EXPECT_EQ(fast.WallMicros() - kSimWallEpochUs, 1006000);
  EXPECT_EQ(slow.WallMicros() - kSimWallEpochUs, 994000);
  EXPECT_EQ(fast.LocalToVirtual(1001000), 1000000);
}

TEST(SimClockTest, MaxWallErrorCoversJumpsAndDrift) {
  EventQueue q;
  SimClock c(&q, -4000, -200);
  EXPECT_EQ(c.MaxWallErrorUs(0), 4001);
  c.set_wall_offset_us(2'000'000);
  c.set_wall_offset_us(10);
  // The largest offset ever set still bounds the error: stamps minted
  // before the jump back are still in storage.
  EXPECT_EQ(c.MaxWallErrorUs(10'000'000), 2'000'000 + 2000 + 1);
  q.RunUntil(10'000'000);
  int64_t true_wall = kSimWallEpochUs + 10'000'000;
  EXPECT_LE(std::abs(c.WallMicros() - true_wall), c.MaxWallErrorUs(q.now()));
}

TEST(SimSchedulerTest, TimersUseLocalClockAndDieWithTheNode) {
  SimWorld w(1);
  SimProcess p(&w, 0);
  SimClock clock(&w.queue(), 0, 100000);  // +10%
  SimScheduler s(&p, &clock);
  int64_t fired_at = -1;
  TimerId t1 = s.RunAfter(110000, [&] { fired_at = w.now(); });
  TimerId t2 = s.RunAfter(5, [&] { fired_at = -2; });
  EXPECT_NE(t1, 0u);
  EXPECT_NE(t1, t2);
  s.Cancel(t2);
  w.queue().RunUntilQuiet(1 << 30);
  EXPECT_EQ(fired_at, 100000);
  s.RunAfter(10, [&] { fired_at = -3; });
  p.Kill();
  w.queue().RunUntilQuiet(1 << 30);
  EXPECT_EQ(fired_at, 100000);
}

struct NetFixture {
  explicit NetFixture(uint64_t seed, LinkProfile profile = {}) : world(seed) {
    for (int i = 0; i < 4; ++i) procs.push_back(std::make_unique<SimProcess>(&world, i));
    std::vector<SimProcess*> raw;
    for (auto& p : procs) raw.push_back(p.get());
    net = std::make_unique<SimNetwork>(&world, raw,
                                       std::vector<NodeId>{"n0", "n1", "n2", "n3"}, profile);
    net->set_deliver([this](int from, int to, std::string bytes) {
      got.push_back({from, to, bytes});
    });
  }
  struct Got {
    int from, to;
    std::string bytes;
  };
  SimWorld world;
  std::vector<std::unique_ptr<SimProcess>> procs;
  std::unique_ptr<SimNetwork> net;
  std::vector<Got> got;
};

TEST(SimNetworkTest, DeliversWithinLatencyBounds) {
  NetFixture f(7);
  f.net->transport(0)->Send("n1", "hello");
  f.net->transport(0)->Send("nobody", "x");
  f.world.queue().RunUntilQuiet(1 << 30);
  ASSERT_EQ(f.got.size(), 1u);
  EXPECT_EQ(f.got[0].from, 0);
  EXPECT_EQ(f.got[0].to, 1);
  EXPECT_EQ(f.got[0].bytes, "hello");
  EXPECT_GE(f.world.now(), 100);
  EXPECT_LE(f.world.now(), 1500);
  EXPECT_EQ(f.net->stats().unknown, 1u);
}

TEST(SimNetworkTest, PartitionShapes) {
  NetFixture f(7);
  f.net->Split({{0, 1}, {2}});  // 3 bridges nothing: it keeps every link
  EXPECT_TRUE(f.net->IsCut(0, 2));
  EXPECT_TRUE(f.net->IsCut(2, 1));
  EXPECT_FALSE(f.net->IsCut(0, 1));
  EXPECT_FALSE(f.net->IsCut(0, 3));
  EXPECT_FALSE(f.net->IsCut(3, 2));
  f.net->HealAll();
  f.net->Cut(0, 1);  // one-way
  EXPECT_TRUE(f.net->IsCut(0, 1));
  EXPECT_FALSE(f.net->IsCut(1, 0));
  f.net->transport(0)->Send("n1", "a");
  f.net->transport(1)->Send("n0", "b");
  f.world.queue().RunUntilQuiet(1 << 30);
  ASSERT_EQ(f.got.size(), 1u);
  EXPECT_EQ(f.got[0].bytes, "b");
  f.net->Isolate(3);
  EXPECT_EQ(f.net->cut_links(), 1 + 6);
}

TEST(SimNetworkTest, CutDropsMessagesInFlight) {
  NetFixture f(7);
  f.net->transport(0)->Send("n1", "a");
  f.net->CutBoth(0, 1);
  f.world.queue().RunUntilQuiet(1 << 30);
  EXPECT_TRUE(f.got.empty());
  EXPECT_EQ(f.net->stats().cut, 1u);
}

TEST(SimNetworkTest, LossDuplicationReorderRates) {
  LinkProfile p;
  p.loss = 0.2;
  p.duplicate = 0.1;
  p.reorder = 0.3;
  NetFixture f(9, p);
  for (int i = 0; i < 2000; ++i) f.net->transport(0)->Send("n1", std::to_string(i));
  f.world.queue().RunUntilQuiet(1LL << 40);
  const NetworkStats& s = f.net->stats();
  EXPECT_NEAR(s.lost / 2000.0, 0.2, 0.04);
  EXPECT_NEAR(s.duplicated / 1600.0, 0.1, 0.04);
  EXPECT_EQ(f.got.size(), 2000 - s.lost + s.duplicated);
  int inversions = 0;
  for (size_t i = 1; i < f.got.size(); ++i) {
    if (std::stoi(f.got[i].bytes) < std::stoi(f.got[i - 1].bytes)) ++inversions;
  }
  EXPECT_GT(inversions, 100);
}

TEST(SimNetworkTest, PausedReceiverGetsMessagesAfterResume) {
  NetFixture f(7);
  f.procs[1]->Pause();
  f.net->transport(0)->Send("n1", "a");
  f.world.queue().RunUntil(1000000);
  EXPECT_TRUE(f.got.empty());
  f.procs[1]->Resume();
  f.world.queue().RunUntilQuiet(1 << 30);
  EXPECT_EQ(f.got.size(), 1u);
}

// A stopped process keeps what was sent to it in its socket and reads it,
// in order, when it runs again; its clocks then say the resume time, so a
// relative timeout in a held message starts at the resume. Timers that
// fell due meanwhile run in the same backlog, in due order.
TEST(SimNetworkTest, PausedReceiverRunsItsBacklogInOrderAtResume) {
  NetFixture f(7);
  SimClock clock(&f.world.queue(), 3000, 0);
  std::vector<std::pair<std::string, int64_t>> ran;
  f.net->set_deliver([&](int, int, std::string bytes) {
    ran.push_back({bytes, clock.WallMicros() - kSimWallEpochUs});
  });
  f.procs[1]->Pause();
  // Far enough apart that link jitter (at most 1.5 ms) cannot reorder them.
  f.net->transport(0)->Send("n1", "a");
  f.procs[1]->Post(500'000, "timer", 0, [&] {
    ran.push_back({"timer", clock.WallMicros() - kSimWallEpochUs});
  });
  f.world.queue().At(1'000'000, [&] { f.net->transport(2)->Send("n1", "b"); });
  f.world.queue().At(2'000'000, [&] { f.net->transport(0)->Send("n1", "c"); });
  f.world.queue().RunUntil(5'000'000);
  EXPECT_TRUE(ran.empty());
  f.procs[1]->Resume();
  f.world.queue().RunUntil(5'000'000);
  std::vector<std::pair<std::string, int64_t>> want = {
      {"a", 5'003'000}, {"timer", 5'003'000}, {"b", 5'003'000}, {"c", 5'003'000}};
  EXPECT_EQ(ran, want);
}

uint64_t RunTrace(uint64_t seed) {
  LinkProfile p;
  p.loss = 0.1;
  p.duplicate = 0.1;
  p.reorder = 0.2;
  NetFixture f(seed, p);
  for (int i = 0; i < 200; ++i) {
    int from = static_cast<int>(f.world.random().Uniform(4));
    int to = static_cast<int>(f.world.random().Uniform(4));
    f.net->transport(from)->Send(f.net->id(to), std::to_string(i));
  }
  f.world.queue().RunUntilQuiet(1LL << 40);
  return f.world.trace().hash();
}

TEST(TraceTest, SameSeedSameHashDifferentSeedDifferent) {
  EXPECT_EQ(RunTrace(42), RunTrace(42));
  EXPECT_NE(RunTrace(42), RunTrace(43));
}

TEST(SimDiskTest, FullSlowAndMutate) {
  SimWorld w(1);
  SimProcess p(&w, 0);
  Random r(1);
  MemoryStorage base;
  SimDisk disk(&base, &p, &r);
  WriteBatch b;
  b.Put("k", "v");
  disk.faults().full = true;
  EXPECT_TRUE(disk.Write(b, true).IsIOError());
  disk.faults().full = false;
  disk.faults().write_latency_us = 300;
  disk.faults().sync_latency_us = 700;
  ASSERT_TRUE(disk.Write(b, true).ok());
  EXPECT_EQ(p.BusyDelay(), 1000);
  std::string v;
  ASSERT_TRUE(disk.Get("k", &v).ok());
  EXPECT_EQ(v, "v");
  disk.set_mutate([](WriteBatch* batch) {
    WriteBatch other;
    other.Put("k", "mutated");
    *batch = other;
  });
  ASSERT_TRUE(disk.Write(b, false).ok());
  ASSERT_TRUE(disk.Get("k", &v).ok());
  EXPECT_EQ(v, "mutated");
  EXPECT_EQ(disk.stats().failed_writes, 1u);
}

TEST(BuggifyTest, DeterministicAndOffWhenDisabled) {
  Buggify off(1, false);
  Buggify a(5, true), b(5, true);
  int fa = 0, fb = 0;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(off.Fire("x", 1.0));
    for (const char* site : {"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"}) {
      fa += a.Fire(site, 0.5);
      fb += b.Fire(site, 0.5);
    }
  }
  EXPECT_EQ(fa, fb);
}

}  // namespace
}  // namespace ringkv::sim
