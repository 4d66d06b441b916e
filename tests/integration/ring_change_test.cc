// Issue 15 with real processes on 127.0.0.1: a fourth node joins a
// three-node cluster under a running write/read load, then leaves again,
// and a transfer whose sender is killed -9 half way resumes from the
// receiver's checkpoint. Checked key by key: every acknowledged write reads
// back at R=2, reads at R=2 are answered throughout, and once a change
// completes each node holds exactly the keys of the partitions it
// replicates (asked per node with a PartitionSizesRequest). The plan's
// moves are compared with the placements before and after.
//
// RINGKV_RING_KEYS sets the preloaded keys (default 20000; `make soak`
// runs 1,000,000).
#include <gtest/gtest.h>
#include <signal.h>

#include <iostream>

#include "tests/integration/ring_change_fixture.h"

namespace ringkv::testing {
namespace {

TEST_F(RingChangeTest, JoinAndLeaveUnderLoadLoseNothing) {
  LocalClusterFixture cluster(3);
  ASSERT_NO_FATAL_FAILURE(Start(cluster, FastFlags("8")));
  const uint32_t keys = PreloadKeys();
  Preload(cluster, keys);
  const Json before = State(cluster, 1);
  ASSERT_EQ(before["members"].size(), 3u);

  Load load({cluster.Address(1), cluster.Address(2), cluster.Address(3)}, &acked_, &mu_);
  // n4 joins (staged), the plan is shown, then committed.
  CommandResult added = cluster.Cluster({"add", "--no-commit"});
  ASSERT_EQ(added.exit_code, 0) << added.Describe() << cluster.LogTails();
  // The staged join reaches the other members by gossip.
  Json staged;
  PollUntil(std::chrono::seconds(10), milliseconds(100), [&] {
    staged = State(cluster, 2);
    return !staged["staged"].empty();
  });
  ASSERT_EQ(staged["staged"].size(), 1u) << staged.dump();
  const Json plan = ParseJson(cluster.Admin(1, {"ring", "plan", "--json"}));
  ASSERT_FALSE(plan["moves"].empty()) << plan.dump();
  EXPECT_EQ(plan["balance_after"]["max"].get<int>() - plan["balance_after"]["min"].get<int>(), 0);
  uint64_t planned_keys = plan["total"]["keys"];
  EXPECT_GT(planned_keys, 0u);
  const std::string plan_id = plan["id"];
  CommandResult commit = cluster.Admin(3, {"ring", "commit", plan_id});
  ASSERT_EQ(commit.exit_code, 0) << commit.Describe();
  // The same plan committed again is refused: the ring changed since.
  CommandResult again = cluster.Admin(1, {"ring", "commit", plan_id});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("plan"), std::string::npos) << again.err;

  const auto committed_at = steady_clock::now();
  const Json joined = WaitChangeDone(cluster, 1, ChangeLimit(std::chrono::seconds(240), keys));
  const double change_s = SecondsSince(committed_at);
  load.Stop();
  std::cout << "join: " << plan["moves"].size() << " moves, " << planned_keys << " keys, "
            << plan["total"]["bytes"] << " bytes in " << change_s << " s; load meanwhile: "
            << load.writes << " writes (" << load.write_failures << " failed), " << load.reads
            << " reads at R=2 (" << load.read_failures << " failed, " << load.wrong_reads
            << " wrong)\n";
  EXPECT_EQ(load.read_failures, 0u) << load.first_failure;
  EXPECT_EQ(load.wrong_reads, 0u);
  EXPECT_GT(load.reads, 0u);
  EXPECT_EQ(joined["members"].size(), 4u);
  // The moves made are the plan's: every replica the new placement adds.
  std::set<std::pair<uint32_t, NodeId>> predicted;
  for (const Json& m : plan["moves"]) {
    predicted.insert(std::make_pair(m["partition"].get<uint32_t>(), m["to"].get<NodeId>()));
  }
  EXPECT_EQ(Added(RingOfState(before), RingOfState(joined)), predicted);
  // And the keys the plan predicted are what streamed to n4, within 2%,
  // plus at most the load's new keys that the streams' snapshots caught.
  const double streamed = MetricSum(cluster, 4, "ringkv_transfer_objects_total", "received");
  std::cout << "join: " << streamed << " objects streamed to n4 for " << planned_keys
            << " planned\n";
  EXPECT_GE(streamed, 0.98 * static_cast<double>(planned_keys));
  EXPECT_LE(streamed, 1.02 * static_cast<double>(planned_keys) + static_cast<double>(load.writes));
  WaitHoldings(cluster, joined, {1, 2, 3, 4}, ChangeLimit(std::chrono::seconds(60), keys));
  VerifyEveryKey(cluster, 4);

  // n4 leaves again: its partitions go back, it is stopped and removed.
  CommandResult removed = cluster.Cluster(
      {"remove", "n4", "--remove-wait-ms",
       std::to_string(1000 * ChangeLimit(std::chrono::seconds(240), keys).count())});
  ASSERT_EQ(removed.exit_code, 0) << removed.Describe() << cluster.LogTails();
  const Json left = WaitChangeDone(cluster, 1, ChangeLimit(std::chrono::seconds(120), keys));
  WaitHoldings(cluster, left, {1, 2, 3}, ChangeLimit(std::chrono::seconds(60), keys));
  VerifyEveryKey(cluster, 1);
}

TEST_F(RingChangeTest, KilledSenderResumesFromTheCheckpoint) {
  LocalClusterFixture cluster(3);
  ASSERT_NO_FATAL_FAILURE(Start(cluster, SlowTransferFlags()));
  Preload(cluster, 20000);
  CommandResult added = cluster.Cluster({"add"});
  ASSERT_EQ(added.exit_code, 0) << added.Describe() << cluster.LogTails();
  // Wait for a stream at least a third (and 100 objects) through, then
  // kill its sender.
  NodeId sender;
  uint64_t sent_before = 0;
  PollUntil(std::chrono::seconds(120), milliseconds(100), [&] {
    const Json transfers = ParseJson(cluster.Admin(1, {"transfers", "--json"}));
    for (const Json& t : transfers["active"]) {
      if (t["state"] == "streaming" && t["total_objects"].get<uint64_t>() > 0 &&
          3 * t["objects"].get<uint64_t>() >= t["total_objects"].get<uint64_t>() &&
          t["objects"].get<uint64_t>() >= 100) {
        sender = t["from"];
        sent_before = t["objects"];
        return true;
      }
    }
    return false;
  });
  ASSERT_FALSE(sender.empty()) << "no transfer got a third and 100 objects through";
  ASSERT_EQ(cluster.Cluster({"kill", sender}).exit_code, 0);
  CommandResult restarted = cluster.Cluster({"restart", sender});
  ASSERT_EQ(restarted.exit_code, 0) << restarted.Describe();
  const Json joined = WaitChangeDone(cluster, 1, std::chrono::seconds(300));
  WaitHoldings(cluster, joined, {1, 2, 3, 4}, std::chrono::seconds(60));
  // Resumed, not restarted: n4 received each object once, give or take the
  // batches in flight at the kill (two streams per sender), while starting
  // over would have sent the killed stream's third again.
  const double received = MetricSum(cluster, 4, "ringkv_transfer_objects_total", "received");
  uint64_t held = 0;
  for (uint64_t c : Holdings(cluster.Address(4))) held += c;
  EXPECT_GE(received, static_cast<double>(held));
  EXPECT_LE(received, static_cast<double>(held) + 2 * 40) << "objects streamed twice";
  EXPECT_GT(sent_before, 2u * 40) << "killed too early to tell a resume from a restart";
  VerifyEveryKey(cluster, 4);
}

// `ringkv-cluster remove` stops a node only once the hints it holds are
// delivered: n5 takes a hint as the fallback for a dead replica B before
// its leave is committed; the change does not involve B, so n5 is exiting
// while B is still down. Stopped then, n5 would take the only hint for B
// with it (anti-entropy is off, so nothing else repairs B); remove waits
// instead, B comes back, gets the hint, and only then is n5 stopped.
TEST_F(RingChangeTest, RemoveWaitsForTheHintsTheNodeHolds) {
  LocalClusterFixture cluster(5);
  std::vector<std::string> flags = FastFlags("8");
  flags.insert(flags.end(), {"--aae", "off", "--partitions", "8"});
  ASSERT_NO_FATAL_FAILURE(Start(cluster, flags));
  // The moves of n5's leave, to find a member B the change leaves alone.
  ASSERT_EQ(cluster.Admin(1, {"ring", "leave", "n5"}).exit_code, 0);
  const Json plan = ParseJson(cluster.Admin(1, {"ring", "plan", "--json"}));
  ASSERT_EQ(cluster.Admin(1, {"ring", "clear"}).exit_code, 0);
  std::set<NodeId> moving;
  for (const Json& m : plan["moves"]) {
    moving.insert(m["from"].get<NodeId>());
    moving.insert(m["to"].get<NodeId>());
  }
  // A key replicated by B (which stays a replica) and not by n5, whose
  // first fallback is n5.
  const Ring ring = RingOfState(State(cluster, 1));
  std::string key;
  NodeId b;
  NodeId coordinator;
  for (int k = 0; k < 100000 && key.empty(); ++k) {
    const std::string candidate = "hinted-" + std::to_string(k);
    const uint32_t p = ring.PartitionOf(KeyHash(kBucket, candidate));
    const Placement placement = ring.PlacementForPartition(p, kN);
    if (placement.fallbacks.empty() || placement.fallbacks[0] != "n5") continue;
    for (const NodeId& r : placement.primaries) {
      if (moving.count(r) == 0 && b.empty()) b = r;
    }
    if (b.empty()) continue;
    key = candidate;
    for (const NodeId& r : placement.primaries) {
      if (r != b) coordinator = r;
    }
  }
  ASSERT_FALSE(key.empty()) << "no replica outside the plan's moves: " << plan.dump();
  const int b_index = std::stoi(b.substr(1));
  const int c_index = std::stoi(coordinator.substr(1));
  const uint32_t partition = ring.PartitionOf(KeyHash(kBucket, key));

  ASSERT_EQ(cluster.Cluster({"kill", b}).exit_code, 0);
  std::unique_ptr<Client> client = ClientFor({cluster.Address(c_index)});
  ASSERT_NE(client, nullptr);
  // All three acknowledge once B's stand-in n5 does (sloppy quorum).
  const std::string value = "held by n5 for " + b + std::string("\0\xfe", 2);
  WriteOptions all;
  all.w = kQuorumAll;
  ASSERT_TRUE(PollUntil(milliseconds(20000), milliseconds(200), [&] {
    return client->Put(kBucket, key, value, all).ok();
  }));
  // 0 once n5 is stopped.
  const auto hints_on_n5 = [&] {
    std::unique_ptr<Client> n5 = ClientFor({cluster.Address(5)});
    if (n5 == nullptr) return uint64_t{0};
    Result<NodeView> view = n5->StatusOf(cluster.Address(5));
    uint64_t held = 0;
    if (view.ok()) {
      for (const HintBacklog& h : view->hints) held += h.target == b ? h.count : 0;
    }
    return held;
  };
  ASSERT_EQ(hints_on_n5(), 1u);

  CommandResult removed;
  std::thread remove([&] {
    removed = RunCommand({BinaryPath("tools/ringkv-cluster"), "remove", "n5", "--remove-wait-ms",
                          "90000", "--dir", cluster.dir()},
                         std::chrono::seconds(120));
  });
  // n5's partitions have moved and it still holds the hint: remove waits.
  Json exiting;
  const bool left = PollUntil(milliseconds(60000), milliseconds(200), [&] {
    exiting = State(cluster, c_index);
    for (const Json& m : exiting["members"]) {
      if (m["node"] == "n5") return m["status"] == "exiting";
    }
    return true;
  });
  EXPECT_TRUE(left) << exiting.dump();
  EXPECT_EQ(hints_on_n5(), 1u) << "n5 stopped or delivered to a dead " << b;
  CommandResult restarted = cluster.Cluster({"restart", b});
  remove.join();
  ASSERT_EQ(restarted.exit_code, 0) << restarted.Describe();
  ASSERT_EQ(removed.exit_code, 0) << removed.Describe() << cluster.LogTails();
  EXPECT_NE(removed.out.find("n5 holds hints 1 (" + b + " 1); waiting for their delivery"),
            std::string::npos)
      << removed.out;
  // B holds the key (the only object of its partition this test wrote),
  // and the value reads back from every replica at once.
  EXPECT_EQ(Holdings(cluster.Address(b_index)).at(partition), 1u);
  ReadOptions every;
  every.r = kQuorumAll;
  Result<GetResult> got = client->Get(kBucket, key, every);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->values, std::vector<std::string>{value});
}

}  // namespace
}  // namespace ringkv::testing
