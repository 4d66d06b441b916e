// ringkv-cluster: runs a local cluster of ringkv-node processes under one
// directory, like Cassandra's ccm. Command-line contract: issue 2 and
// docs/cli.md. Exit status: 0 success, 1 failure, 2 usage.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>
#include <nlohmann/json.hpp>

#include "tools/local_cluster.h"
#include "tools/local_ring_change.h"
#include "tools/process.h"

namespace ringkv {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int Fail(const Status& status) {
  std::cerr << "ringkv-cluster: " << status.message() << "\n";
  return status.IsInvalidArgument() ? kExitUsage : kExitFailure;
}

// ringkv-node: the --node-binary flag, else beside this executable, else in
// the build tree's node/ directory.
Result<std::string> FindNodeBinary(const std::string& flag) {
  if (!flag.empty()) {
    if (::access(flag.c_str(), X_OK) != 0) {
      return Status::InvalidArgument("--node-binary " + flag + " is not executable");
    }
    return fs::absolute(flag).string();
  }
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const fs::path& candidate :
         {self.parent_path() / "ringkv-node", self.parent_path() / ".." / "node" / "ringkv-node"}) {
      if (::access(candidate.c_str(), X_OK) == 0) {
        return fs::weakly_canonical(candidate, ec).string();
      }
    }
  }
  return Status::NotFound("cannot find ringkv-node beside " + self.string() +
                          " or in ../node/; pass --node-binary");
}

struct CommonFlags {
  std::string dir = "var/cluster";
  std::string node_binary;
  bool json = false;
  uint32_t wait_ms = 30000;
  uint32_t grace_ms = 10000;
  uint32_t remove_wait_ms = 600'000;
};

// How to run tool `name` from here: the one beside this executable, as a
// path relative to the working directory when that is shorter.
std::string ToolCommand(const std::string& name) {
  std::error_code ec;
  const fs::path cli = fs::read_symlink("/proc/self/exe", ec).parent_path() / name;
  if (ec || ::access(cli.c_str(), X_OK) != 0) return name;
  const fs::path rel = fs::relative(cli, fs::current_path(ec), ec);
  return !ec && !rel.empty() && rel.string().size() < cli.string().size() ? rel.string()
                                                                          : cli.string();
}

void PrintBanner(const LocalCluster& cluster) {
  std::cout << "\nringkv cluster of " << cluster.file().members.size() << " nodes in "
            << cluster.dir() << " (N=" << cluster.file().n
            << ", partitions=" << cluster.file().partitions << ")\n";
  for (const ClusterMember& m : cluster.file().members) {
    const LocalNodeStatus st = cluster.Describe(m, milliseconds(1000));
    std::cout << "  " << m.id << "  " << m.address
              << (st.http.empty() ? "" : "  http://" + st.http + "/") << "  log "
              << cluster.LogPath(m) << "\n";
  }
  const std::string tool = ToolCommand("ringkv-cluster");
  const std::string cli =
      ToolCommand("ringkv") + " --node " + cluster.file().members.front().address +
      (cluster.tls() ? " --tls-ca " + cluster.TlsDir() + "/ca.crt" : "");
  const std::string& last = cluster.file().members.back().id;
  std::cout << "\nTry, from another terminal:\n"
            << "  " << cli << " put fruit apple red\n"
            << "  " << cli << " get fruit apple --json\n"
            << "  " << cli << " del fruit apple\n"
            << "  " << tool << " status --dir " << cluster.dir() << "\n";
  if (const std::string http = cluster.Describe(cluster.file().members.front(), milliseconds(1000)).http;
      !http.empty()) {
    std::cout << "  curl -i http://" << http << "/v1/buckets/fruit/keys/apple\n"
              << "  open http://" << http << "/ in a browser: the ring, live\n";
  }
  std::cout << "  " << tool << " kill " << last << " --dir " << cluster.dir()
            << "   # then put with --w all: exit 3\n"
            << "\nCtrl-C stops the cluster.\n"
            << std::flush;
}

Status StopAll(LocalCluster& cluster, milliseconds grace) {
  Status first;
  for (const ClusterMember& m : cluster.file().members) {
    const bool was_running = cluster.RunningPid(m) != 0;
    Status st = cluster.StopNode(m, grace);
    if (!st.ok()) {
      std::cerr << "ringkv-cluster: " << st.message() << "\n";
      if (first.ok()) first = st;
    } else if (was_running) {
      std::cout << "stopped " << m.id << "\n";
    }
  }
  return first;
}

// Undoes a failed start: the nodes that were already running stay up.
void StopStarted(LocalCluster& cluster, const std::vector<ClusterMember>& started,
                 milliseconds grace) {
  for (const ClusterMember& m : started) {
    Status st = cluster.StopNode(m, grace);
    if (!st.ok()) std::cerr << "ringkv-cluster: " << st.message() << "\n";
  }
}

// Waits for SIGINT or SIGTERM (blocked by the caller before the nodes were
// started), then stops the cluster.
int RunForeground(LocalCluster& cluster, const sigset_t& signals, milliseconds grace) {
  for (;;) {
    timespec tick{1, 0};
    const int sig = ::sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) break;
    // Nodes killed meanwhile (ringkv-cluster kill from another terminal)
    // are our children: reap them so they do not linger as zombies.
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
  std::cout << "\nstopping...\n";
  return StopAll(cluster, grace).ok() ? 0 : kExitFailure;
}

int Start(const CommonFlags& flags, const LocalClusterSpec& spec,
          const NodeFlags& node_flags, bool sync, bool foreground,
          bool tls) {
  Result<std::string> binary = FindNodeBinary(flags.node_binary);
  if (!binary.ok()) return Fail(binary.status());
  bool created = false;
  Result<LocalCluster> cluster = LocalCluster::OpenOrCreate(flags.dir, spec, *binary, &created);
  if (!cluster.ok()) return Fail(cluster.status());
  // A new cluster in the ephemeral range was refused above; one made before
  // that check is still started, with the warning.
  if (Status st = CheckPortsOutsideEphemeralRange(cluster->file()); !st.ok()) {
    std::cerr << "ringkv-cluster: warning: " << st.message() << "\n";
  }
  if (Status st = cluster->SetNodeFlags(node_flags); !st.ok()) return Fail(st);
  // Once a cluster has a CA it stays TLS: its nodes would refuse plain peers.
  if (tls) {
    if (Status st = cluster->EnableTls(); !st.ok()) return Fail(st);
  }

  // Blocked before any node starts so that a Ctrl-C during start is not lost;
  // children get a clean mask (tools/process.cc).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (foreground) ::sigprocmask(SIG_BLOCK, &signals, nullptr);

  std::vector<ClusterMember> started;
  for (const ClusterMember& m : cluster->file().members) {
    const bool running = cluster->RunningPid(m) != 0;
    Result<pid_t> pid = cluster->StartNode(m, sync);
    if (!pid.ok()) {
      StopStarted(*cluster, started, milliseconds(flags.grace_ms));
      return Fail(pid.status());
    }
    if (!running) started.push_back(m);
  }
  Status serving = cluster->WaitServing(cluster->file().members, milliseconds(flags.wait_ms));
  if (!serving.ok()) {
    StopStarted(*cluster, started, milliseconds(flags.grace_ms));
    return Fail(serving);
  }
  for (const ClusterMember& m : cluster->file().members) {
    std::cout << m.id << " " << m.address << " pid " << cluster->RunningPid(m) << "\n";
  }
  std::cout << (created ? "started new cluster in " : "started cluster in ") << cluster->dir()
            << "\n"
            << std::flush;
  if (!foreground) return 0;
  PrintBanner(*cluster);
  return RunForeground(*cluster, signals, milliseconds(flags.grace_ms));
}

int Stop(const CommonFlags& flags) {
  Result<LocalCluster> cluster = LocalCluster::Open(flags.dir, "");
  if (!cluster.ok()) return Fail(cluster.status());
  return StopAll(*cluster, milliseconds(flags.grace_ms)).ok() ? 0 : kExitFailure;
}

int PrintStatus(const CommonFlags& flags) {
  Result<LocalCluster> cluster = LocalCluster::Open(flags.dir, "");
  if (!cluster.ok()) return Fail(cluster.status());
  nlohmann::json out = nlohmann::json::array();
  for (const ClusterMember& m : cluster->file().members) {
    LocalNodeStatus st = cluster->Describe(m, milliseconds(1000));
    if (flags.json) {
      out.push_back({{"name", st.name},
                     {"address", st.address},
                     {"pid", st.pid == 0 ? nlohmann::json(nullptr) : nlohmann::json(st.pid)},
                     {"state", st.state},
                     {"hints_pending", st.hints_pending},
                     {"peers_down", st.peers_down},
                     {"http", st.http.empty() ? nlohmann::json(nullptr) : nlohmann::json(st.http)}});
      continue;
    }
    std::printf("%-4s %-21s %-8s %s", st.name.c_str(), st.address.c_str(),
                st.pid == 0 ? "-" : std::to_string(st.pid).c_str(), st.state.c_str());
    if (st.state == "up") {
      std::printf("      hints %llu", static_cast<unsigned long long>(st.hints_pending));
      std::string down;
      for (const std::string& p : st.peers_down) down += (down.empty() ? "" : ",") + p;
      if (!down.empty()) std::printf("  sees-down %s", down.c_str());
      if (!st.http.empty()) std::printf("  http %s", st.http.c_str());
    }
    std::printf("\n");
  }
  if (flags.json) std::cout << out.dump() << "\n";
  return 0;
}

// A running member other than `except`, to send ring requests to.
Result<ClusterMember> RunningSeed(const LocalCluster& cluster, const std::string& except) {
  for (const ClusterMember& m : cluster.file().members) {
    if (m.id != except && cluster.RunningPid(m) != 0) return m;
  }
  return Status::Unavailable("no running member to ask");
}

// `add`: the next member joins through a running one, then the plan is
// committed (docs/ring-changes.md).
int AddNode(const CommonFlags& flags, bool commit) {
  Result<std::string> binary = FindNodeBinary(flags.node_binary);
  if (!binary.ok()) return Fail(binary.status());
  Result<LocalCluster> cluster = LocalCluster::Open(flags.dir, *binary);
  if (!cluster.ok()) return Fail(cluster.status());
  Result<ClusterMember> seed = RunningSeed(*cluster, "");
  if (!seed.ok()) return Fail(seed.status());
  Result<ClusterMember> member = cluster->AddMember();
  if (!member.ok()) return Fail(member.status());
  Result<pid_t> pid = cluster->StartJoiningNode(*member, seed->address);
  if (!pid.ok()) return Fail(pid.status());
  if (Status st = cluster->WaitServing({*member}, milliseconds(flags.wait_ms)); !st.ok()) {
    return Fail(st);
  }
  std::cout << "started " << member->id << " at " << member->address << " pid " << *pid
            << ", joining through " << seed->id << "\n";
  if (!commit) return 0;
  Result<PlanView> plan =
      PlanAndCommit(seed->address, milliseconds(flags.wait_ms), cluster->ClientTls());
  if (!plan.ok()) return Fail(plan.status());
  std::cout << "committed plan " << plan->id << ": " << plan->moves.size()
            << " partition moves; follow them with ringkv-admin transfers\n";
  return 0;
}

// The hints `member` holds, "" when it holds none: "3 (n1 2, n2 1)".
// A node that does not answer counts as holding some, since its hints
// are on its disk until it serves again.
std::string HintsHeld(const LocalCluster& cluster, const ClusterMember& member,
                      milliseconds timeout) {
  Result<NodeView> view = QueryNodeStatus(member.address, timeout, cluster.ClientTls());
  if (!view.ok()) return "unknown (" + view.status().ToString() + ")";
  uint64_t total = 0;
  std::string targets;
  for (const HintBacklog& h : view->hints) {
    if (h.count == 0) continue;
    total += h.count;
    targets += (targets.empty() ? "" : ", ") + h.target + " " + std::to_string(h.count);
  }
  return total == 0 ? "" : std::to_string(total) + " (" + targets + ")";
}

// `remove`: NODE leaves, its partitions move away, the hints it holds
// reach their targets, then it is stopped and taken out of the cluster
// file. Run again after a timeout, it goes on from where the leave is.
int RemoveNode(const CommonFlags& flags, const std::string& name) {
  Result<LocalCluster> cluster = LocalCluster::Open(flags.dir, "");
  if (!cluster.ok()) return Fail(cluster.status());
  Result<ClusterMember> member = cluster->Member(name);
  if (!member.ok()) return Fail(Status::InvalidArgument(member.status().message()));
  Result<ClusterMember> seed = RunningSeed(*cluster, member->id);
  if (!seed.ok()) return Fail(seed.status());
  const milliseconds timeout(flags.wait_ms);
  const ClientOptions::Tls tls = cluster->ClientTls();
  Result<RingState> current = RingStateOf(seed->address, timeout, tls);
  if (!current.ok()) return Fail(current.status());
  const StateMember* known = current->Find(member->id);
  const bool committed = known != nullptr && (known->status == MemberStatus::kLeaving ||
                                              known->status == MemberStatus::kExiting);
  if (!committed) {
    Result<RingAdminReply> left = AskRing(
        seed->address, RingAdminRequest{"leave", member->id, {}, {}, 0, {}, {}, {}, {}},
        timeout, tls);
    if (!left.ok()) return Fail(left.status());
    Result<PlanView> plan = PlanAndCommit(seed->address, timeout, tls);
    if (!plan.ok()) return Fail(plan.status());
    std::cout << "committed plan " << plan->id << ": " << plan->moves.size()
              << " partition moves away from " << member->id << "\n";
  } else {
    std::cout << member->id << " is already " << MemberStatusName(known->status)
              << "; waiting for its leave to finish\n";
  }
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(flags.remove_wait_ms);
  const auto timed_out = [&](const std::string& what) {
    return Fail(Status::Timeout(member->id + " " + what + " after " +
                                std::to_string(flags.remove_wait_ms) +
                                " ms; follow with ringkv-admin transfers and ringkv-cluster "
                                "status, and run remove again"));
  };
  // First its partitions: done when it owns nothing any more.
  for (;;) {
    Result<RingState> state = RingStateOf(seed->address, timeout, tls);
    if (state.ok()) {
      const StateMember* m = state->Find(member->id);
      if (m == nullptr || m->status == MemberStatus::kExiting) break;
    }
    if (std::chrono::steady_clock::now() > deadline) return timed_out("still holds partitions");
    std::this_thread::sleep_for(milliseconds(200));
  }
  // Then its hints: it took some as a fallback before the commit, and
  // stopping it while their targets are down would lose those copies
  // (the shutdown's own handoff only reaches targets that are up).
  std::string last_said;
  for (;;) {
    const std::string held = HintsHeld(*cluster, *member, timeout);
    if (held.empty()) break;
    if (held != last_said) {
      std::cout << member->id << " holds hints " << held << "; waiting for their delivery\n"
                << std::flush;
      last_said = held;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return timed_out("still holds hints " + held);
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  if (Status st = cluster->StopNode(*member, milliseconds(flags.grace_ms)); !st.ok()) {
    return Fail(st);
  }
  if (Status st = cluster->RemoveMember(member->id); !st.ok()) return Fail(st);
  std::cout << "removed " << member->id << "\n";
  return 0;
}

int NodeCommand(const std::string& command, const CommonFlags& flags, const std::string& name) {
  const bool restart = command == "restart";
  std::string binary;
  if (restart) {
    // Restart reuses the node's recorded command line; the binary is only
    // needed for a node that has never been started.
    Result<std::string> found = FindNodeBinary(flags.node_binary);
    if (found.ok()) binary = *found;
  }
  Result<LocalCluster> cluster = LocalCluster::Open(flags.dir, binary);
  if (!cluster.ok()) return Fail(cluster.status());
  Result<ClusterMember> member = cluster->Member(name);
  if (!member.ok()) return Fail(Status::InvalidArgument(member.status().message()));
  const milliseconds grace(flags.grace_ms);
  if (restart) {
    Result<pid_t> pid = cluster->RestartNode(*member, grace);
    if (!pid.ok()) return Fail(pid.status());
    Status st = cluster->WaitServing({*member}, milliseconds(flags.wait_ms));
    if (!st.ok()) return Fail(st);
    std::cout << "restarted " << member->id << " pid " << *pid << "\n";
    return 0;
  }
  const pid_t pid = cluster->RunningPid(*member);
  Status st;
  if (command == "kill") {
    st = cluster->Signal(*member, SIGKILL);
    if (st.ok() && !WaitGone(pid, grace)) st = Status::Internal(member->id + " did not die");
  } else if (command == "pause") {
    st = cluster->Signal(*member, SIGSTOP);
    if (st.ok() && !WaitStopped(pid, grace)) st = Status::Internal(member->id + " did not stop");
  } else {
    st = cluster->Signal(*member, SIGCONT);
  }
  if (!st.ok()) return Fail(st);
  std::cout << command << (command == "kill" ? "ed " : "d ") << member->id << " (pid " << pid
            << ")\n";
  return 0;
}

void AddCommonFlags(CLI::App* cmd, CommonFlags* flags) {
  cmd->add_option("--dir", flags->dir, "cluster directory")->capture_default_str();
  cmd->add_option("--grace-ms", flags->grace_ms,
                  "how long a node may take to exit on SIGTERM before SIGKILL")
      ->capture_default_str();
}

}  // namespace
}  // namespace ringkv

int main(int argc, char** argv) {
  using namespace ringkv;
  CLI::App app{"ringkv-cluster: run a local ringkv cluster under one directory"};
  app.require_subcommand(1, 1);
  CommonFlags flags;

  CLI::App* start = app.add_subcommand("start", "start a new cluster, or the one in --dir again");
  LocalClusterSpec spec;
  uint32_t nodes = kDefaultNodes, base_port = kDefaultBasePort, n = 3, partitions = 64;
  std::vector<std::string> buckets;
  bool sync = false, foreground = false, tls = false;
  CLI::Option* nodes_opt =
      start->add_option("--nodes", nodes, "number of nodes")->capture_default_str();
  CLI::Option* base_opt =
      start
          ->add_option("--base-port", base_port,
                       "node i serves on port base-port + i; refused inside the kernel's "
                       "ephemeral port range")
          ->capture_default_str();
  bool distinct_hosts = false;
  CLI::Option* distinct_opt = start->add_flag(
      "--distinct-hosts", distinct_hosts,
      "node i serves on 127.0.0.(i + 1) instead of 127.0.0.1, and its peer connections "
      "leave from there (for partitions between two nodes, docs/chaos.md)");
  CLI::Option* n_opt = start->add_option("--n", n, "replicas per key (default min(3, nodes))");
  CLI::Option* partitions_opt =
      start->add_option("--partitions", partitions, "ring partitions (a power of two)")
          ->capture_default_str();
  start->add_option("--bucket", buckets,
                    "bucket properties, NAME:resolver=lww,n=3,r=2,w=2 (repeatable)");
  start->add_flag("--sync", sync, "nodes fsync every write before acknowledging it");
  start->add_flag("--tls", tls,
                  "make a cluster CA and node certificates in DIR/tls and run every node with "
                  "TLS (peers and clients; clients pass --tls-ca DIR/tls/ca.crt); kept for "
                  "later starts");
  start->add_flag("--foreground", foreground,
                  "stay in the foreground with a banner; Ctrl-C or SIGTERM "
                  "stops the cluster");
  // Passed through to every ringkv-node (same checks as there) and kept in
  // DIR/node-flags, so later starts and restarts of this cluster keep them.
  NodeFlags node_flags;
  struct NodeFlag {
    const char* name;
    const char* help;
    CLI::Validator check;
  };
  const NodeFlag node_flag_defs[] = {
      {"--gossip-interval-ms", "nodes' heartbeat gossip period (ringkv-node default 1000)",
       CLI::Range(10u, 60'000u)},
      {"--phi-threshold", "nodes' phi at which a peer is marked down (default 8)",
       CLI::Range(0.5, 100.0)},
      {"--hint-rate", "nodes' hinted-handoff deliveries per second (default 2000)",
       CLI::Range(1.0, 1e7)},
      {"--request-timeout-ms", "nodes' deadline of a request that carries none (default 5000)",
       CLI::Range(1u, 3'600'000u)},
      {"--plugins", "nodes' merge plugin directory (docs/plugins.md)", CLI::ExistingDirectory},
      {"--plugin-worker-deadline-ms",
       "how long a merge in a worker may take before the worker is killed (default 50)",
       CLI::Range(1u, 10'000u)},
      {"--plugin-worker-memory-mb", "address space of each merge worker, MiB (default 512)",
       CLI::Range(64u, 1u << 20)},
      {"--aae", "nodes' active anti-entropy, on or off (default on)",
       CLI::IsMember({"on", "off"})},
      {"--aae-interval-ms", "nodes' time between two anti-entropy exchanges (default 2000)",
       CLI::Range(10u, 3'600'000u)},
      {"--hinted-handoff", "nodes hand hints back, on or off (default on)",
       CLI::IsMember({"on", "off"})},
      {"--ring-tick-ms", "nodes' ring keeper period (default 1000)", CLI::Range(10u, 600'000u)},
      {"--transfer-settle-ms", "nodes' wait before streaming a committed change (default 5000)",
       CLI::Range(0u, 3'600'000u)},
      {"--transfer-cleanup-delay-ms",
       "nodes' wait after a change before deleting what they no longer replicate (default "
       "10000)",
       CLI::Range(0u, 86'400'000u)},
      {"--transfer-mib-per-sec", "nodes' transfer pace, MiB/s (default 32)", CLI::Range(0.0, 1e6)},
      {"--transfers-per-node", "nodes' transfers sent at once (default 2)", CLI::Range(1u, 1024u)},
      {"--transfer-batch-kb", "nodes' transfer batch size, KiB (default 256)",
       CLI::Range(1u, 8192u)},
      {"--shutdown-grace-ms",
       "how long a stopped node goes on handing off hints (default 5000; keep it under "
       "--grace-ms)",
       CLI::Range(0u, 3'600'000u)},
  };
  std::vector<std::pair<std::string, CLI::Option*>> node_flag_opts;
  std::map<std::string, std::string> node_flag_values;
  for (const NodeFlag& f : node_flag_defs) {
    node_flag_opts.emplace_back(
        f.name, start->add_option(f.name, node_flag_values[f.name], f.help)->check(f.check));
  }
  // Repeatable, unlike the flags above; a value is written on a line of
  // DIR/node-flags, so it must be a file name and nothing more.
  std::vector<std::string> plugin_workers;
  CLI::Option* plugin_worker_opt =
      start
          ->add_option("--plugin-worker", plugin_workers,
                       "on every node, run this plugin of --plugins (its file name, max.so or "
                       "max; * for every one) in a worker process of its own (repeatable; "
                       "docs/plugins.md, \"Worker mode\")")
          ->check(CLI::Validator(
              [](const std::string& name) -> std::string {
                const bool bad = name.empty() || name.size() > 255 ||
                                 std::any_of(name.begin(), name.end(), [](unsigned char c) {
                                   return c == '/' || c < 0x20 || c == 0x7f;
                                 });
                return bad ? "expected a plugin's file name (1 to 255 bytes, no '/' or control "
                             "character) or *"
                           : "";
              },
              "FILE|*"));
  start->add_option("--node-binary", flags.node_binary, "path of ringkv-node");
  start->add_option("--wait-ms", flags.wait_ms, "how long to wait for the nodes to serve")
      ->capture_default_str();
  AddCommonFlags(start, &flags);

  CLI::App* stop = app.add_subcommand("stop", "stop every node (SIGTERM, then SIGKILL)");
  AddCommonFlags(stop, &flags);
  CLI::App* status = app.add_subcommand("status",
                                        "one line per node: name address pid state, "
                                        "and for up nodes their pending hints "
                                        "and the peers they believe down");
  status->add_flag("--json", flags.json,
                   "print a JSON array of {name, address, pid, state, "
                   "hints_pending, peers_down}");
  AddCommonFlags(status, &flags);

  bool no_commit = false;
  CLI::App* add = app.add_subcommand(
      "add", "start the next node (n4 after n1..n3), join it through a running member and "
             "commit the plan: its partitions stream to it (docs/ring-changes.md)");
  add->add_flag("--no-commit", no_commit, "only stage the join; plan and commit with ringkv-admin");
  add->add_option("--node-binary", flags.node_binary, "path of ringkv-node");
  add->add_option("--wait-ms", flags.wait_ms, "how long to wait for the node to serve")
      ->capture_default_str();
  AddCommonFlags(add, &flags);
  std::string remove_name;
  CLI::App* remove = app.add_subcommand(
      "remove", "NODE leaves the ring: plan and commit, wait until its partitions moved, "
                "stop it and take it out of the cluster file");
  remove->add_option("NODE", remove_name, "node name (n2) or number (2)")->required();
  remove->add_option("--remove-wait-ms", flags.remove_wait_ms,
                     "how long to wait for its partitions to move")
      ->capture_default_str();
  AddCommonFlags(remove, &flags);

  std::string node_name;
  const std::vector<std::pair<std::string, std::string>> node_commands = {
      {"kill", "SIGKILL a node"},
      {"pause", "SIGSTOP a node"},
      {"resume", "SIGCONT a paused node"},
      {"restart", "stop a node (if running) and start it again with its data"}};
  std::vector<CLI::App*> node_cmds;
  for (const auto& [name, help] : node_commands) {
    CLI::App* cmd = app.add_subcommand(name, help);
    cmd->add_option("NODE", node_name, "node name (n2) or number (2)")->required();
    AddCommonFlags(cmd, &flags);
    if (name == "restart") {
      cmd->add_option("--node-binary", flags.node_binary, "path of ringkv-node");
      cmd->add_option("--wait-ms", flags.wait_ms, "how long to wait for the node to serve")
          ->capture_default_str();
    }
    node_cmds.push_back(cmd);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }

  if (start->parsed()) {
    for (const std::string& b : buckets) {
      const size_t colon = b.find(':');
      if (colon == std::string::npos || colon == 0) {
        return Fail(Status::InvalidArgument("--bucket " + b + ": expected NAME:PROPS"));
      }
      spec.buckets.emplace_back(b.substr(0, colon), b.substr(colon + 1));
    }
    if (nodes_opt->count() > 0) spec.nodes = nodes;
    if (base_opt->count() > 0) spec.base_port = base_port;
    if (distinct_opt->count() > 0) spec.distinct_hosts = distinct_hosts;
    if (n_opt->count() > 0) spec.n = n;
    if (partitions_opt->count() > 0) spec.partitions = partitions;
    for (const auto& [name, opt] : node_flag_opts) {
      if (opt->count() == 0) continue;
      // Nodes do not start in this directory.
      node_flags[name] = {name == "--plugins"
                              ? std::filesystem::absolute(node_flag_values[name]).string()
                              : node_flag_values[name]};
    }
    if (plugin_worker_opt->count() > 0) node_flags["--plugin-worker"] = plugin_workers;
    return Start(flags, spec, node_flags, sync, foreground, tls);
  }
  if (stop->parsed()) return Stop(flags);
  if (add->parsed()) return AddNode(flags, !no_commit);
  if (remove->parsed()) return RemoveNode(flags, remove_name);
  if (status->parsed()) return PrintStatus(flags);
  for (CLI::App* cmd : node_cmds) {
    if (cmd->parsed()) return NodeCommand(cmd->get_name(), flags, node_name);
  }
  return kExitUsage;
}
