// The "done means" of issue 2 with real processes on 127.0.0.1: a 3-node
// cluster started by ringkv-cluster, driven with the ringkv CLI, faults
// injected with ringkv-cluster kill/pause.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "tests/integration/harness.h"
#include "tools/process.h"

namespace ringkv::testing {
namespace {

using std::chrono::milliseconds;
using Json = nlohmann::json;

constexpr int kExitNotFound = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnavailable = 3;

Json ParseJson(const CommandResult& r) {
  Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << r.Describe();
  return j;
}

std::vector<std::string> SiblingValues(const Json& j) {
  std::vector<std::string> values;
  if (!j.contains("siblings")) return values;
  for (const Json& s : j["siblings"]) values.push_back(s.value("value", ""));
  std::sort(values.begin(), values.end());
  return values;
}

class ClusterTest : public ::testing::Test {
 protected:
  void StartCluster(const std::vector<std::string>& extra = {}) {
    CommandResult r = cluster_.Start(extra);
    ASSERT_EQ(r.exit_code, 0) << r.Describe() << "\n" << cluster_.LogTails();
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << cluster_.LogTails();
  }
  // Runs the CLI and expects success.
  CommandResult Ok(int node, const std::vector<std::string>& args) {
    CommandResult r = cluster_.Cli(node, args);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return r;
  }

  LocalClusterFixture cluster_{3};
};

TEST_F(ClusterTest, PutAtW2ThenGetAtR2ThroughAnotherNode) {
  StartCluster();
  Ok(1, {"put", "fruit", "apple", "red", "--w", "2"});
  CommandResult get = Ok(2, {"get", "fruit", "apple", "--r", "2"});
  EXPECT_EQ(get.out, "red\n");
  CommandResult json = Ok(3, {"get", "fruit", "apple", "--r", "quorum", "--json"});
  Json j = ParseJson(json);
  EXPECT_EQ(j["found"], true);
  EXPECT_EQ(SiblingValues(j), std::vector<std::string>{"red"});
  EXPECT_TRUE(j["context"].is_string());
  EXPECT_FALSE(j["context"].get<std::string>().empty());
}

TEST_F(ClusterTest, OneNodeKilledQuorumsOfTwoSucceedAllFails) {
  StartCluster();
  Ok(1, {"put", "b", "before", "v0", "--w", "all"});
  CommandResult kill = cluster_.Cluster({"kill", "n3"});
  ASSERT_EQ(kill.exit_code, 0) << kill.Describe();

  Ok(1, {"put", "b", "k", "v1", "--w", "2", "--timeout", "3000"});
  CommandResult get = Ok(2, {"get", "b", "k", "--r", "2", "--timeout", "3000"});
  EXPECT_EQ(get.out, "v1\n");
  EXPECT_EQ(Ok(1, {"get", "b", "before", "--r", "2"}).out, "v0\n");

  CommandResult all = cluster_.Cli(1, {"put", "b", "k", "v2", "--w", "3", "--timeout", "2000"});
  EXPECT_EQ(all.exit_code, kExitUnavailable) << all.Describe();
  EXPECT_FALSE(all.err.empty());
  EXPECT_EQ(std::count(all.err.begin(), all.err.end(), '\n'), 1) << all.err;
  EXPECT_LT(all.elapsed, milliseconds(2000 + 3000)) << all.Describe();

  // The node still answers through a surviving node when asked at one.
  Ok(2, {"get", "b", "k", "--r", "one"});
}

TEST_F(ClusterTest, PausedNodeDoesNotHangRequestsPastTheirDeadline) {
  StartCluster();
  Ok(1, {"put", "b", "k", "v1", "--w", "all"});
  CommandResult pause = cluster_.Cluster({"pause", "n2"});
  ASSERT_EQ(pause.exit_code, 0) << pause.Describe();

  constexpr int kTimeoutMs = 1000;
  // Margin for process start-up and a loaded 2-core machine; a hang would
  // last the CLI's whole 30 s harness timeout.
  const milliseconds limit(kTimeoutMs + 2500);
  const std::string timeout = std::to_string(kTimeoutMs);

  // Coordinated by a live node, waiting for the paused replica: fails in time.
  CommandResult all = cluster_.Cli(1, {"put", "b", "k", "v2", "--w", "all", "--timeout", timeout});
  EXPECT_EQ(all.exit_code, kExitUnavailable) << all.Describe();
  EXPECT_LT(all.elapsed, limit) << all.Describe();
  CommandResult get_all = cluster_.Cli(3, {"get", "b", "k", "--r", "all", "--timeout", timeout});
  EXPECT_EQ(get_all.exit_code, kExitUnavailable) << get_all.Describe();
  EXPECT_LT(get_all.elapsed, limit) << get_all.Describe();

  // Sent to the paused node itself: the kernel accepts the connection, and
  // only the request deadline ends the wait.
  CommandResult direct = cluster_.Cli(2, {"get", "b", "k", "--timeout", timeout});
  EXPECT_EQ(direct.exit_code, kExitUnavailable) << direct.Describe();
  EXPECT_LT(direct.elapsed, limit) << direct.Describe();

  // Quorums that the live nodes can meet still succeed.
  Ok(1, {"put", "b", "k2", "v", "--w", "2", "--timeout", "3000"});
  EXPECT_EQ(Ok(3, {"get", "b", "k2", "--r", "2", "--timeout", "3000"}).out, "v\n");

  CommandResult resume = cluster_.Cluster({"resume", "n2"});
  ASSERT_EQ(resume.exit_code, 0) << resume.Describe();
  EXPECT_EQ(Ok(2, {"get", "b", "k2", "--r", "2", "--timeout", "3000"}).out, "v\n");
}

TEST_F(ClusterTest, BlindPutsBecomeSiblingsAndAPutWithTheContextReplacesThem) {
  StartCluster();
  Ok(1, {"put", "cart", "alice", "milk"});
  Ok(2, {"put", "cart", "alice", "eggs"});
  Json j = ParseJson(Ok(3, {"get", "cart", "alice", "--r", "all", "--json"}));
  EXPECT_EQ(SiblingValues(j), (std::vector<std::string>{"eggs", "milk"}));

  // The human form prints every sibling and says so on stderr.
  CommandResult human = Ok(3, {"get", "cart", "alice", "--r", "all"});
  EXPECT_NE(human.out.find("milk\n"), std::string::npos);
  EXPECT_NE(human.out.find("eggs\n"), std::string::npos);
  EXPECT_NE(human.err.find("2 siblings"), std::string::npos) << human.err;

  const std::string context = j["context"];
  Ok(1, {"put", "cart", "alice", "eggs,milk", "--context", context, "--w", "all"});
  Json after = ParseJson(Ok(2, {"get", "cart", "alice", "--r", "all", "--json"}));
  EXPECT_EQ(SiblingValues(after), std::vector<std::string>{"eggs,milk"});
}

TEST_F(ClusterTest, LwwBucketAlwaysReturnsOneValue) {
  StartCluster({"--bucket", "last:resolver=lww"});
  for (int i = 0; i < 4; ++i) {
    Ok(1 + i % 3, {"put", "last", "k", "v" + std::to_string(i), "--w", "all"});
    Json j = ParseJson(Ok(1 + (i + 1) % 3, {"get", "last", "k", "--r", "all", "--json"}));
    EXPECT_EQ(SiblingValues(j), std::vector<std::string>{"v" + std::to_string(i)});
  }
  // The default bucket in the same cluster keeps siblings.
  Ok(1, {"put", "other", "k", "a"});
  Ok(2, {"put", "other", "k", "b"});
  EXPECT_EQ(SiblingValues(ParseJson(Ok(3, {"get", "other", "k", "--r", "all", "--json"}))).size(),
            2u);
}

TEST_F(ClusterTest, DataSurvivesRestartingEveryNode) {
  StartCluster();
  for (int i = 0; i < 10; ++i) {
    Ok(1 + i % 3,
       {"put", "durable", "k" + std::to_string(i), "v" + std::to_string(i), "--w", "all"});
  }
  CommandResult stop = cluster_.Cluster({"stop"});
  ASSERT_EQ(stop.exit_code, 0) << stop.Describe();
  CommandResult status = cluster_.Cluster({"status", "--json"});
  for (const Json& n : ParseJson(status)) EXPECT_EQ(n["state"], "down") << status.out;

  // `start` on the directory starts the same cluster again.
  StartCluster();
  for (int i = 0; i < 10; ++i) {
    CommandResult get =
        Ok(1 + (i + 1) % 3, {"get", "durable", "k" + std::to_string(i), "--r", "all"});
    EXPECT_EQ(get.out, "v" + std::to_string(i) + "\n");
  }

  // And one node at a time.
  CommandResult restart = cluster_.Cluster({"restart", "n1"});
  ASSERT_EQ(restart.exit_code, 0) << restart.Describe();
  EXPECT_EQ(Ok(1, {"get", "durable", "k3", "--r", "all"}).out, "v3\n");
}

TEST_F(ClusterTest, DeleteThenGetIsNotFound) {
  StartCluster();
  Ok(1, {"put", "b", "gone", "soon"});
  Ok(2, {"del", "b", "gone", "--w", "all"});
  CommandResult get = cluster_.Cli(3, {"get", "b", "gone", "--r", "all"});
  EXPECT_EQ(get.exit_code, kExitNotFound) << get.Describe();
  EXPECT_EQ(get.out, "");
  EXPECT_FALSE(get.err.empty());
  CommandResult json = cluster_.Cli(1, {"get", "b", "gone", "--json"});
  EXPECT_EQ(json.exit_code, kExitNotFound) << json.Describe();
  Json j = ParseJson(json);
  EXPECT_EQ(j["found"], false);
  EXPECT_TRUE(j["siblings"].empty());

  // With the context that put printed.
  std::string context = Ok(1, {"put", "b", "gone2", "soon"}).out;
  context.pop_back();  // the newline
  Ok(3, {"del", "b", "gone2", "--context", context, "--w", "all"});
  EXPECT_EQ(cluster_.Cli(2, {"get", "b", "gone2", "--r", "all"}).exit_code, kExitNotFound);

  CommandResult never = cluster_.Cli(1, {"get", "b", "never-written"});
  EXPECT_EQ(never.exit_code, kExitNotFound) << never.Describe();
}

TEST_F(ClusterTest, StatusJsonShowsUpDownAndPaused) {
  StartCluster();
  CommandResult up = cluster_.Cluster({"status", "--json"});
  ASSERT_EQ(up.exit_code, 0) << up.Describe();
  Json j = ParseJson(up);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(j[i]["name"], "n" + std::to_string(i + 1));
    EXPECT_EQ(j[i]["address"], cluster_.Address(i + 1));
    EXPECT_TRUE(j[i]["pid"].is_number_integer()) << up.out;
    EXPECT_EQ(j[i]["state"], "up");
  }
  ASSERT_EQ(cluster_.Cluster({"kill", "n2"}).exit_code, 0);
  ASSERT_EQ(cluster_.Cluster({"pause", "3"}).exit_code, 0);
  Json after = ParseJson(cluster_.Cluster({"status", "--json"}));
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[0]["state"], "up");
  EXPECT_EQ(after[1]["state"], "down");
  EXPECT_TRUE(after[1]["pid"].is_null());
  EXPECT_EQ(after[2]["state"], "paused");

  CommandResult human = cluster_.Cluster({"status"});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_EQ(std::count(human.out.begin(), human.out.end(), '\n'), 3) << human.out;
  EXPECT_NE(human.out.find("paused"), std::string::npos);

  // stop reaches a paused node too (SIGTERM with SIGCONT), well within the
  // grace period after which it would use SIGKILL.
  CommandResult stop = cluster_.Cluster({"stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.Describe();
  EXPECT_LT(stop.elapsed, milliseconds(5000)) << stop.Describe();
  for (const Json& n : ParseJson(cluster_.Cluster({"status", "--json"}))) {
    EXPECT_EQ(n["state"], "down");
  }
}

TEST_F(ClusterTest, StartOnAnExistingClusterRefusesConflictingFlags) {
  StartCluster();
  CommandResult again = cluster_.Start();  // same flags: already running, fine
  EXPECT_EQ(again.exit_code, 0) << again.Describe();
  CommandResult r = cluster_.Start({"--n", "1"});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.Describe();
  EXPECT_NE(r.err.find("already holds a cluster"), std::string::npos) << r.err;
}

TEST_F(ClusterTest, CliReportsBadInputAndUnreachableNodes) {
  StartCluster();
  CommandResult bad_quorum = cluster_.Cli(1, {"put", "b", "k", "v", "--w", "most"});
  EXPECT_EQ(bad_quorum.exit_code, kExitUsage) << bad_quorum.Describe();
  CommandResult bad_context = cluster_.Cli(1, {"put", "b", "k", "v", "--context", "%%%"});
  EXPECT_EQ(bad_context.exit_code, kExitUsage) << bad_context.Describe();
  CommandResult missing = cluster_.Cli(1, {"get", "b"});
  EXPECT_EQ(missing.exit_code, kExitUsage) << missing.Describe();
  CommandResult too_big = cluster_.Cli(1, {"put", "b", "k", "v", "--w", "4"});
  EXPECT_EQ(too_big.exit_code, kExitUsage) << too_big.Describe();

  // A dead first node: the CLI falls over to the next one in --node.
  ASSERT_EQ(cluster_.Cluster({"kill", "n1"}).exit_code, 0);
  CommandResult failover =
      RunCommand({BinaryPath("tools/ringkv"), "--node",
                  cluster_.Address(1) + "," + cluster_.Address(2), "put", "b", "k", "v"});
  EXPECT_EQ(failover.exit_code, 0) << failover.Describe();
  CommandResult dead = cluster_.Cli(1, {"ping"});
  EXPECT_EQ(dead.exit_code, kExitUnavailable) << dead.Describe();
}

TEST_F(ClusterTest, ForegroundStartStopsEverythingOnSigterm) {
  // What `make run` does: start in the foreground, then stop on a signal.
  const std::string log = cluster_.dir() + ".foreground.log";
  Result<pid_t> tool =
      SpawnDetached({BinaryPath("tools/ringkv-cluster"), "start", "--foreground", "--nodes", "3",
                     "--dir", cluster_.dir(), "--base-port", std::to_string(cluster_.base_port()),
                     "--node-binary", BinaryPath("node/ringkv-node")},
                    log);
  ASSERT_TRUE(tool.ok()) << tool.status().ToString();
  // However the test ends, the foreground tool does not outlive it.
  struct KillOnExit {
    pid_t pid;
    ~KillOnExit() {
      if (GetProcessState(pid) != ProcessState::kGone) ::kill(pid, SIGKILL);
      WaitGone(pid, std::chrono::seconds(5));
    }
  } guard{*tool};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool all_up = false;
  while (!all_up && std::chrono::steady_clock::now() < deadline) {
    CommandResult status = cluster_.Cluster({"status", "--json"});
    Json j = Json::parse(status.out, nullptr, false);
    all_up = j.is_array() && j.size() == 3 &&
             std::all_of(j.begin(), j.end(), [](const Json& n) { return n["state"] == "up"; });
    if (!all_up) std::this_thread::sleep_for(milliseconds(50));  // poll interval
  }
  ASSERT_TRUE(all_up) << cluster_.LogTails();
  // A node that is up may not reach its peers yet (on a loaded machine the
  // first puts can find them "believed down"): poll until one goes through.
  CommandResult put;
  while ((put = cluster_.Cli(2, {"put", "b", "k", "v"})).exit_code != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(50));  // poll interval
  }
  EXPECT_EQ(put.exit_code, 0) << put.Describe();

  ASSERT_EQ(::kill(*tool, SIGTERM), 0);
  EXPECT_TRUE(WaitGone(*tool, std::chrono::seconds(30)));
  Json after = ParseJson(cluster_.Cluster({"status", "--json"}));
  for (const Json& n : after) EXPECT_EQ(n["state"], "down") << after.dump();
  std::ifstream banner(log);
  const std::string text((std::istreambuf_iterator<char>(banner)),
                         std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("Ctrl-C stops the cluster"), std::string::npos) << text;
  EXPECT_NE(text.find(cluster_.Address(1)), std::string::npos) << text;
}

TEST_F(ClusterTest, GarbageAndOversizedFramesLeaveTheNodeServing) {
  StartCluster();
  // A frame whose checksum does not match its body.
  std::string garbage = std::string("\x05\x00\x00\x00", 4) + std::string(8, '\x42') + "hello";
  // A header announcing a 4 GiB body.
  std::string oversized = std::string("\xff\xff\xff\xff", 4) + std::string(8, '\0');
  for (const std::string& bytes : {garbage, oversized, std::string(1000, '\x7f')}) {
    SendRaw(cluster_.Address(1), bytes);
  }
  Ok(1, {"ping"});
  Ok(1, {"put", "b", "k", "v", "--w", "all"});
  EXPECT_EQ(Ok(1, {"get", "b", "k"}).out, "v\n");
}

// For 0, 1 and 2 of 3 nodes killed: every put and get at R/W 1..3 succeeds
// exactly when enough replicas are alive, and otherwise fails with exit 3
// within its deadline.
class AvailabilityTest : public ClusterTest, public ::testing::WithParamInterface<int> {};

TEST_P(AvailabilityTest, RequestsSucceedExactlyWhenEnoughReplicasAreAlive) {
  StartCluster();
  Ok(1, {"put", "avail", "k", "v0", "--w", "all"});
  const int killed = GetParam();
  for (int i = 0; i < killed; ++i) {
    CommandResult kill = cluster_.Cluster({"kill", "n" + std::to_string(3 - i)});
    ASSERT_EQ(kill.exit_code, 0) << kill.Describe();
  }
  const int alive = 3 - killed;
  constexpr int kTimeoutMs = 1000;
  for (int q = 1; q <= 3; ++q) {
    const std::string quorum = std::to_string(q);
    const std::string value = "v" + quorum;
    CommandResult put = cluster_.Cli(
        1, {"put", "avail", "k", value, "--w", quorum, "--timeout", std::to_string(kTimeoutMs)});
    CommandResult get = cluster_.Cli(
        1, {"get", "avail", "k", "--r", quorum, "--timeout", std::to_string(kTimeoutMs)});
    for (const CommandResult* r : {&put, &get}) {
      EXPECT_EQ(r->exit_code, q <= alive ? 0 : kExitUnavailable)
          << "alive " << alive << ", quorum " << q << "\n"
          << r->Describe();
      EXPECT_LT(r->elapsed, milliseconds(kTimeoutMs + 2500)) << r->Describe();
    }
    if (q <= alive) {
      EXPECT_NE(get.out.find(value + "\n"), std::string::npos) << get.Describe();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(NodesKilled, AvailabilityTest, ::testing::Values(0, 1, 2));

}  // namespace
}  // namespace ringkv::testing

namespace ringkv::testing {
namespace {

bool HasArg(pid_t pid, const std::string& arg) {
  const std::vector<std::string> args = GetProcessArgs(pid);
  return std::find(args.begin(), args.end(), arg) != args.end();
}

TEST_F(ClusterTest, StartPassesNodeFlagsAndLaterStartsKeepThem) {
  StartCluster({"--gossip-interval-ms", "200", "--phi-threshold", "6", "--hint-rate", "500",
                "--request-timeout-ms", "4000"});
  const std::vector<std::string> expected = {"--gossip-interval-ms=200", "--phi-threshold=6",
                                             "--hint-rate=500", "--request-timeout-ms=4000"};
  auto check_all = [&](const char* when) {
    Json status = ParseJson(cluster_.Cluster({"status", "--json"}));
    ASSERT_EQ(status.size(), 3u);
    for (const Json& n : status) {
      ASSERT_TRUE(n["pid"].is_number_integer()) << when << ": " << status.dump();
      for (const std::string& arg : expected) {
        EXPECT_TRUE(HasArg(n["pid"].get<pid_t>(), arg)) << when << ": " << n["name"] << " " << arg;
      }
    }
  };
  check_all("after start");
  ASSERT_EQ(cluster_.Cluster({"kill", "n2"}).exit_code, 0);
  ASSERT_EQ(cluster_.Cluster({"restart", "n2"}).exit_code, 0);
  check_all("after restart");
  ASSERT_EQ(cluster_.Cluster({"stop"}).exit_code, 0);
  StartCluster();  // no flags: the saved ones
  check_all("after stop and start");

  CommandResult bad = cluster_.Start({"--phi-threshold", "0"});
  EXPECT_EQ(bad.exit_code, kExitUsage) << bad.Describe();
}

TEST_F(ClusterTest, AdminStatusExitCodes) {
  StartCluster();
  CommandResult help = RunCommand({BinaryPath("tools/ringkv-admin"), "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.Describe();
  EXPECT_NE(help.out.find("status"), std::string::npos) << help.out;
  CommandResult text = cluster_.Admin(2, {"status"});
  EXPECT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_NE(text.out.find("node n2"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("hints pending: 0"), std::string::npos) << text.out;
  Json j = ParseJson(cluster_.Admin(3, {"status", "--json"}));
  EXPECT_EQ(j["node"], "n3");
  EXPECT_EQ(j["hints_pending"], 0);
  EXPECT_EQ(j["peers"].size(), 3u) << j.dump();

  EXPECT_EQ(cluster_.Admin(1, {"bogus"}).exit_code, kExitUsage);
  CommandResult bad_node =
      RunCommand({BinaryPath("tools/ringkv-admin"), "--node", "no-port", "status"});
  EXPECT_EQ(bad_node.exit_code, kExitUsage) << bad_node.Describe();
  ASSERT_EQ(cluster_.Cluster({"kill", "n1"}).exit_code, 0);
  CommandResult dead = cluster_.Admin(1, {"status"});
  EXPECT_EQ(dead.exit_code, kExitUnavailable) << dead.Describe();
  EXPECT_EQ(std::count(dead.err.begin(), dead.err.end(), '\n'), 1) << dead.err;
}

TEST_F(ClusterTest, AdminRingShowsOwnersBalanceAndViolations) {
  StartCluster({"--partitions", "32"});
  Json ring = ParseJson(cluster_.Admin(1, {"ring", "--json"}));
  ASSERT_EQ(ring["partitions"], 32) << ring.dump();
  EXPECT_EQ(ring["n"], 3);
  ASSERT_EQ(ring["owners"].size(), 32u) << ring.dump();
  ASSERT_EQ(ring["members"].size(), 3u) << ring.dump();
  // The members' counts are the owners table's, and balanced (32 = 11+11+10).
  std::map<std::string, int> owned;
  for (const Json& owner : ring["owners"]) ++owned[owner.get<std::string>()];
  for (int i = 0; i < 3; ++i) {
    const Json& m = ring["members"][i];
    EXPECT_EQ(m["node"], "n" + std::to_string(i + 1));
    EXPECT_EQ(m["address"], cluster_.Address(i + 1));
    EXPECT_EQ(m["partitions"], owned[m["node"].get<std::string>()]) << ring.dump();
  }
  EXPECT_EQ(owned.size(), 3u);
  EXPECT_EQ(ring["balance"]["min"], 10);
  EXPECT_EQ(ring["balance"]["max"], 11);
  // Violations recounted from the owners: windows of n that repeat one.
  int violations = 0;
  for (int p = 0; p < 32; ++p) {
    std::set<std::string> window;
    for (int k = 0; k < 3; ++k) window.insert(ring["owners"][(p + k) % 32].get<std::string>());
    violations += window.size() < 3 ? 1 : 0;
  }
  EXPECT_EQ(ring["violations"], violations);
  // Every node serves the same ring.
  EXPECT_EQ(ParseJson(cluster_.Admin(3, {"ring", "--json"}))["owners"], ring["owners"]);

  CommandResult text = cluster_.Admin(2, {"ring"});
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_NE(text.out.find("partitions 32  n 3  members 3"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("balance: 10 to 11 partitions per member"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("placement violations: " + std::to_string(violations)),
            std::string::npos)
      << text.out;
  ASSERT_EQ(cluster_.Cluster({"kill", "n2"}).exit_code, 0);
  EXPECT_EQ(cluster_.Admin(2, {"ring"}).exit_code, kExitUnavailable);
}

}  // namespace
}  // namespace ringkv::testing
