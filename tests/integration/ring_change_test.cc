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

}  // namespace
}  // namespace ringkv::testing
