// ringkv on hosts that are separate network stacks (tests/hosts/netns_hosts.h),
// each node run with the Kubernetes configuration of deploy/kubernetes/
// (its node.toml and cluster.toml: listen on 0.0.0.0, peers by DNS name),
// and a client on a host of its own. What the StatefulSet's probes and ports
// expect (read from the manifests by tests/deploy/check_manifests.py) is
// checked against the running nodes. Then: writes at W=2, one host's link
// cut, writes and reads at R=2 on the rest, the link back, and after the
// heal the cut host alone serves every write, byte for byte. Then a fourth
// node on a new host joins through a seed's name and the first node leaves
// (docs/ring-changes.md), and the two remaining pods and the new one serve
// every write with the first one stopped.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/hosts/netns_hosts.h"
#include "tests/integration/harness.h"
#include "tests/integration/test_client.h"

namespace ringkv::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr int kNodes = 3;
constexpr int kKeysBefore = 150;
constexpr int kKeysDuringCut = 150;
constexpr const char* kBucket = "hosts";

class MultiHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Status st = NetnsHosts::Available(); !st.ok()) GTEST_SKIP() << st.message();
    source_ = std::getenv("RINGKV_SOURCE_DIR");
    hosts_ = std::make_unique<NetnsHosts>();
    nonce_ = std::random_device{}();
  }

  // What the manifests say a pod serves: ports and probe paths.
  Json Probes() {
    CommandResult r = RunCommand({"/usr/bin/python3", source_ + "/tests/deploy/check_manifests.py",
                                  source_ + "/deploy/kubernetes", "--probes"});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return Json::parse(r.out, nullptr, false);
  }

  // Starts pod `i` of the StatefulSet on its own host, as the pod would run
  // (node.toml, --node ringkv-i), with files of this test's directory.
  void StartNode(int i) {
    const std::string name = "ringkv-" + std::to_string(i);
    const std::string log = temp_.path() + "/" + name + ".log";
    Result<pid_t> pid = hosts_->Spawn(
        node_host_[i],
        {BinaryPath("node/ringkv-node"), "--config", source_ + "/deploy/kubernetes/config/node.toml",
         "--node", name, "--cluster", source_ + "/deploy/kubernetes/config/cluster.toml", "--data",
         temp_.path() + "/" + name, "--cluster-secret-file", secret_, "--plugins",
         BinaryPath("merge/builtin"), "--log-file", log, "--gossip-interval-ms", "100"},
        log);
    ASSERT_TRUE(pid.ok()) << pid.status().ToString();
    pids_[i] = *pid;
  }

  // `ringkv-admin --node ringkv-0... ARGS --json` from the client host, parsed.
  Json Admin(int node, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {BinaryPath("tools/ringkv-admin"), "--node",
                                     "ringkv-" + std::to_string(node) + ".ringkv-peer:7000"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--json");
    CommandResult r = hosts_->Run(client_host_, argv);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return Json::parse(r.out, nullptr, false);
  }

  // Plans and commits the staged change through `node`, then polls until
  // no change is in flight; the seconds from commit to done, or -1.
  double CommitAndWait(int node) {
    Json plan = Admin(node, {"ring", "plan"});
    if (!plan.is_object() || !plan.contains("id")) {
      ADD_FAILURE() << "no plan: " << plan.dump();
      return -1;
    }
    const auto committed = steady_clock::now();
    Json commit = Admin(node, {"ring", "commit", plan["id"].get<std::string>()});
    if (!commit.is_object()) return -1;
    for (auto deadline = committed + std::chrono::seconds(120); steady_clock::now() < deadline;
         std::this_thread::sleep_for(milliseconds(200))) {  // poll interval
      Json state = Admin(node, {"ring", "state"});
      if (state.is_object() && state["change"].is_null() && state["epoch"] > commit["epoch"]) {
        return SecondsSince(committed);
      }
    }
    ADD_FAILURE() << "the change of plan " << plan["id"] << " did not complete in 120 s";
    return -1;
  }

  // GET http://ADDRESS:PORT/PATH from the client host; the status code, or
  // 0 when nothing answered.
  int HttpStatus(const std::string& address, int port, const std::string& path) {
    const std::string script =
        "import sys, urllib.request, urllib.error\n"
        "try:\n"
        "  print(urllib.request.urlopen(sys.argv[1], timeout=2).status)\n"
        "except urllib.error.HTTPError as e:\n"
        "  print(e.code)\n"
        "except Exception:\n"
        "  print(0)\n";
    CommandResult r =
        hosts_->Run(client_host_, {"/usr/bin/python3", "-c", script,
                                   "http://" + address + ":" + std::to_string(port) + path});
    return r.exit_code == 0 ? std::atoi(r.out.c_str()) : 0;
  }

  CommandResult Cli(int node, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {BinaryPath("tools/ringkv"), "--node",
                                     "ringkv-" + std::to_string(node) + ".ringkv-peer:7000",
                                     "--timeout", "3000"};
    argv.insert(argv.end(), args.begin(), args.end());
    return hosts_->Run(client_host_, argv);
  }

  std::string Value(int key) const {
    return "value " + std::to_string(key) + " of run " + std::to_string(nonce_);
  }

  // Writes keys [from, to) at W=2, round robin over `coordinators`; every
  // write must be acknowledged.
  void Write(int from, int to, const std::vector<int>& coordinators) {
    for (int k = from; k < to; ++k) {
      const int node = coordinators[k % coordinators.size()];
      CommandResult r = Cli(node, {"put", kBucket, "key-" + std::to_string(k), Value(k), "--w", "2"});
      ASSERT_EQ(r.exit_code, 0) << r.Describe();
      written_[k] = Value(k);
    }
  }

  // Reads every written key at `r` through `coordinators`; the keys that do
  // not come back exactly as written.
  int Lost(const std::vector<int>& coordinators, const std::string& r) {
    int lost = 0;
    for (const auto& [k, value] : written_) {
      CommandResult got =
          Cli(coordinators[k % coordinators.size()], {"get", kBucket, "key-" + std::to_string(k), "--r", r});
      if (got.exit_code != 0 || got.out != value + "\n") {
        if (++lost <= 5) ADD_FAILURE() << "key-" << k << ": " << got.Describe();
      }
    }
    return lost;
  }

  // Polls (bounded) until every up node reports no pending hint and sees
  // every peer up.
  bool WaitHealed(milliseconds limit) {
    const auto deadline = steady_clock::now() + limit;
    while (steady_clock::now() < deadline) {
      bool healed = true;
      for (int i = 0; i < kNodes && healed; ++i) {
        std::vector<std::string> argv = {BinaryPath("tools/ringkv-admin"), "--node",
                                         "ringkv-" + std::to_string(i) + ".ringkv-peer:7000",
                                         "status", "--json"};
        CommandResult r = hosts_->Run(client_host_, argv);
        Json s = Json::parse(r.out, nullptr, false);
        healed = r.exit_code == 0 && s.is_object() && s.value("hints_pending", 1) == 0;
        if (healed) {
          for (const Json& p : s["peers"]) healed = healed && p.value("up", false);
        }
      }
      if (healed) return true;
      std::this_thread::sleep_for(milliseconds(200));  // poll interval
    }
    return false;
  }

  std::string source_;
  TempDir temp_;
  std::unique_ptr<NetnsHosts> hosts_;
  std::vector<int> node_host_;
  int client_host_ = -1;
  std::string secret_;
  uint64_t nonce_ = 0;
  std::map<int, std::string> written_;
  std::map<int, pid_t> pids_;
};

TEST_F(MultiHostTest, TheKubernetesConfigServesItsProbesLosesNoWriteWhenAHostIsCutOffAndSurvivesAJoinAndALeave) {
  const Json probes = Probes();
  ASSERT_TRUE(probes.is_object());
  ASSERT_EQ(probes["replicas"], kNodes) << "this test runs the manifests' three pods";
  for (int i = 0; i < kNodes; ++i) {
    Result<int> h = hosts_->AddHost("ringkv-" + std::to_string(i) + ".ringkv-peer");
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    node_host_.push_back(*h);
  }
  Result<int> client = hosts_->AddHost("client");
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  client_host_ = *client;
  secret_ = temp_.path() + "/cluster-secret";
  std::ofstream(secret_) << std::string(64, 'c') << "\n";
  fs::permissions(secret_, fs::perms::owner_read | fs::perms::owner_write);

  const auto start = steady_clock::now();
  for (int i = 0; i < kNodes; ++i) StartNode(i);
  if (HasFatalFailure()) return;
  // Every pod becomes ready on the manifests' readiness port and path, and
  // is live on the liveness one.
  const int http_port = probes["http_port"];
  for (int i = 0; i < kNodes; ++i) {
    const std::string& address = hosts_->Address(node_host_[i]);
    int ready = 0;
    for (auto deadline = steady_clock::now() + std::chrono::seconds(30);
         ready != 200 && steady_clock::now() < deadline;
         std::this_thread::sleep_for(milliseconds(100))) {  // poll interval
      ready = HttpStatus(address, http_port, probes["readiness"]);
    }
    ASSERT_EQ(ready, 200) << "ringkv-" << i << " never ready";
    EXPECT_EQ(HttpStatus(address, http_port, probes["liveness"]), 200);
    EXPECT_EQ(HttpStatus(address, http_port, "/no-such-probe"), 404);
  }
  std::cout << "[figures] " << kNodes << " hosts ready in " << SecondsSince(start) << " s\n";

  Write(0, kKeysBefore, {0, 1, 2});
  if (HasFatalFailure()) return;
  ASSERT_TRUE(hosts_->SetLink(node_host_[2], false).ok());
  Write(kKeysBefore, kKeysBefore + kKeysDuringCut, {0, 1});
  if (HasFatalFailure()) return;
  EXPECT_EQ(Lost({0, 1}, "2"), 0) << "reads at R=2 while ringkv-2 is cut off";

  ASSERT_TRUE(hosts_->SetLink(node_host_[2], true).ok());
  const auto healing = steady_clock::now();
  ASSERT_TRUE(WaitHealed(milliseconds(60000))) << "hints not handed to ringkv-2 within 60 s";
  const double heal_s = SecondsSince(healing);
  // ringkv-2 alone: the others cut off, it can only answer from its disk.
  ASSERT_TRUE(hosts_->SetLink(node_host_[0], false).ok());
  ASSERT_TRUE(hosts_->SetLink(node_host_[1], false).ok());
  const int lost = Lost({2}, "1");
  EXPECT_EQ(lost, 0);
  std::cout << "[figures] " << kNodes << " hosts + 1 client host; " << written_.size()
            << " writes at W=2 (" << kKeysDuringCut << " while ringkv-2 was cut off); lost "
            << lost << "; healed in " << heal_s << " s after the link came back\n";
  ASSERT_TRUE(hosts_->SetLink(node_host_[0], true).ok());
  ASSERT_TRUE(hosts_->SetLink(node_host_[1], true).ok());
  ASSERT_TRUE(WaitHealed(milliseconds(60000)));

  // A new host: its node listens on every address, as a pod does, joins
  // through the first pod's name, and advertises its own address (the
  // others loaded their hosts files at start, so a new name is no use).
  Result<int> added = hosts_->AddHost("ringkv-3.ringkv-peer");
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  const std::string joiner_address = hosts_->Address(*added) + ":7000";
  const std::string joiner_log = temp_.path() + "/ringkv-3.log";
  ASSERT_TRUE(hosts_
                  ->Spawn(*added,
                          {BinaryPath("node/ringkv-node"), "--node", "ringkv-3", "--data",
                           temp_.path() + "/ringkv-3", "--listen", "0.0.0.0:7000",
                           "--advertise", joiner_address, "--insecure-dev", "--join", "ringkv-0.ringkv-peer:7000",
                           "--cluster-secret-file", secret_, "--plugins",
                           BinaryPath("merge/builtin"), "--log-file", joiner_log,
                           "--gossip-interval-ms", "100"},
                          joiner_log)
                  .ok());
  Json state;
  for (auto deadline = steady_clock::now() + std::chrono::seconds(30);
       steady_clock::now() < deadline; std::this_thread::sleep_for(milliseconds(200))) {
    state = Admin(0, {"ring", "state"});
    if (state.is_object() && !state["staged"].empty()) break;  // poll until the join is staged
  }
  ASSERT_TRUE(state.is_object() && !state["staged"].empty())
      << state.dump() << "\nringkv-3's log:\n"
      << RunCommand({"/usr/bin/tail", "-20", joiner_log}).out;
  const double join_s = CommitAndWait(0);
  ASSERT_GE(join_s, 0);
  Json leave = Admin(1, {"ring", "leave", "ringkv-0"});
  ASSERT_TRUE(leave.is_object()) << leave.dump();
  const double leave_s = CommitAndWait(1);
  ASSERT_GE(leave_s, 0);
  state = Admin(1, {"ring", "state"});
  // By name, so that a member missing from the state fails too ("" is not
  // "valid"); one that left may be gone from it.
  std::map<std::string, std::string> status;
  for (const Json& m : state["members"]) {
    status[m["node"].get<std::string>()] = m["status"].get<std::string>();
  }
  EXPECT_EQ(status["ringkv-3"], "valid") << state.dump();
  EXPECT_NE(status["ringkv-0"], "valid") << state.dump();
  // ringkv-0 stops; every write is still there, read at R=2 through the
  // two remaining pods.
  ::kill(pids_[0], SIGTERM);
  const int lost_after = Lost({1, 2}, "2");
  EXPECT_EQ(lost_after, 0);
  std::cout << "[figures] ringkv-3 joined in " << join_s << " s, ringkv-0 left in " << leave_s
            << " s; " << written_.size() << " writes read back at R=2 with ringkv-0 stopped, lost "
            << lost_after << "\n";
}

}  // namespace
}  // namespace ringkv::testing
