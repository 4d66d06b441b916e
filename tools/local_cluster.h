// LocalCluster: a cluster of ringkv-node processes on this machine, kept
// under one directory (like Cassandra's ccm). See docs/cli.md.
//
//   DIR/cluster.toml      the cluster file every node reads (docs/cluster-file.md)
//   DIR/cluster-secret    the secret peers authenticate with (mode 0600,
//                         docs/security.md), created at the first start
//   DIR/<id>/data/        the node's data directory
//   DIR/<id>/node.log     the node's stdout and stderr
//   DIR/<id>/pid          PID of the running node (absent when stopped)
//   DIR/<id>/command      the node's command line, one argument per line,
//                         reused by `restart`
//   DIR/tls/              with `start --tls`: the cluster CA (ca.crt, ca.key)
//                         and each node's certificate and key (<id>.crt,
//                         <id>.key); nodes of a cluster with a CA speak TLS
//   DIR/node-flags        extra ringkv-node flags given to `start`
//                         (--gossip-interval-ms=100, one a line; a
//                         repeatable flag once per value), kept for later
//                         starts of the same cluster
//
// Node i (1-based) is "n<i>" and serves on 127.0.0.1:(base port + i), or,
// with distinct hosts, on 127.0.0.(i + 1):(base port + i): each node then has
// an address of its own, which its peer connections also leave from, so a
// firewall rule between two addresses cuts exactly one pair (docs/chaos.md). A PID
// file is trusted only while /proc shows a process whose command line names
// this cluster file, so a stale file or a reused PID never gets signalled.
//
// Thread-compatible: one thread uses a LocalCluster at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/client.h"
#include "client/node_view.h"
#include "common/status.h"
#include "node/cluster_file.h"

namespace ringkv {

// What `ringkv-cluster start` was asked for; unset fields take defaults for a
// new cluster and must match the cluster file of an existing one.
struct LocalClusterSpec {
  std::optional<uint32_t> nodes;
  std::optional<uint32_t> base_port;
  std::optional<uint32_t> n;
  std::optional<uint32_t> partitions;
  std::vector<std::pair<std::string, std::string>> buckets;  // name, "resolver=lww,..."
  std::optional<bool> distinct_hosts;                        // node i on 127.0.0.(i + 1)
};

inline constexpr uint32_t kDefaultNodes = 3;
inline constexpr uint32_t kDefaultBasePort = 7100;
// 127.0.0.2 .. 127.0.0.254.
inline constexpr uint32_t kMaxDistinctHostNodes = 253;

// Address of node i (1-based) of a local cluster.
std::string LocalNodeAddress(uint32_t base_port, uint32_t i, bool distinct_hosts);

// Each node of a local cluster serves HTTP (docs/http-api.md) on its own
// host at its port plus this: n1 on 127.0.0.1:7101 serves HTTP on
// 127.0.0.1:8101.
inline constexpr uint32_t kHttpPortOffset = 1000;
// The HTTP address of the member at `address`; "" when the port would pass
// 65535 (that node then serves no HTTP).
std::string LocalHttpAddress(const std::string& address);

// InvalidArgument naming the first member whose port (or HTTP port) lies in the kernel's
// ephemeral range (/proc/sys/net/ipv4/ip_local_port_range) and is not
// reserved (ip_local_reserved_ports): there an outgoing connection can take
// a stopped node's port and make its restart fail with "Address already in
// use". OK when the range cannot be read.
Status CheckPortsOutsideEphemeralRange(const ClusterFile& file);

// Extra ringkv-node flags by name ("--hint-rate"), each with its values:
// one, or several for a repeatable flag ("--plugin-worker").
using NodeFlags = std::map<std::string, std::vector<std::string>>;

struct LocalNodeStatus {
  std::string name;
  std::string address;
  pid_t pid = 0;      // 0 when no process runs
  std::string state;  // "up", "down" or "paused"
  // The --http address of its last start; "" when it was started without.
  std::string http;
  // The node's own view, when it is up and answered a status request.
  uint64_t hints_pending = 0;
  std::vector<std::string> peers_down;  // peers it believes down
};

class LocalCluster {
 public:
  // Opens the cluster in `dir`: NotFound when it holds no cluster.toml.
  static Result<LocalCluster> Open(const std::string& dir, std::string node_binary);
  // Opens the cluster in `dir` after checking `spec` against it
  // (InvalidArgument on a conflict), or creates it from `spec` when `dir`
  // holds none. `created` tells which.
  static Result<LocalCluster> OpenOrCreate(const std::string& dir, const LocalClusterSpec& spec,
                                           std::string node_binary, bool* created);

  const std::string& dir() const { return dir_; }
  const ClusterFile& file() const { return file_; }
  // The member named `name` ("n2", or just "2"); NotFound otherwise.
  Result<ClusterMember> Member(const std::string& name) const;

  // PID of the member's running process, 0 when none.
  pid_t RunningPid(const ClusterMember& member) const;
  // PID of the process of the member's pid file while it lives, else 0;
  // unlike RunningPid, not judged by its command line, which a wrapper
  // exec'ing into the node changes while it starts.
  pid_t LivePid(const ClusterMember& member) const;
  LocalNodeStatus Describe(const ClusterMember& member,
                           std::chrono::milliseconds ping_timeout) const;

  // Extra ringkv-node flags passed to every node started from now on.
  const NodeFlags& node_flags() const { return node_flags_; }
  // Sets the given flags, each to exactly the values given (others keep
  // theirs), and saves them in DIR.
  Status SetNodeFlags(const NodeFlags& flags);

  // Starts the member unless it runs already; `sync` adds --sync. Returns
  // its PID.
  Result<pid_t> StartNode(const ClusterMember& member, bool sync);
  // Ring changes (docs/ring-changes.md). Appends the next member ("n4"
  // after n1..n3, at the next address) to the cluster file and returns it.
  Result<ClusterMember> AddMember();
  // Starts a member added by AddMember: it joins through `seed`.
  Result<pid_t> StartJoiningNode(const ClusterMember& member, const std::string& seed);
  // Takes a member out of the cluster file (after it left the ring).
  Status RemoveMember(const std::string& id);

  // Starts it again with the command line it was last started with.
  Result<pid_t> RestartNode(const ClusterMember& member, std::chrono::milliseconds grace);
  // SIGTERM, then SIGKILL after `grace`. OK when the member is not running.
  Status StopNode(const ClusterMember& member, std::chrono::milliseconds grace);
  // Sends `signal` to the member's process; Unavailable when it does not run.
  Status Signal(const ClusterMember& member, int signal);

  // Polls until every member in `members` answers a ping, or the timeout
  // passes (Timeout naming the silent ones). A member whose process exits
  // meanwhile fails at once, quoting the last line of its log.
  Status WaitServing(const std::vector<ClusterMember>& members,
                     std::chrono::milliseconds timeout) const;

  std::string NodeDir(const ClusterMember& member) const { return dir_ + "/" + member.id; }
  std::string LogPath(const ClusterMember& member) const { return NodeDir(member) + "/node.log"; }
  std::string SecretPath() const { return dir_ + "/cluster-secret"; }
  std::string TlsDir() const { return dir_ + "/tls"; }
  // Whether the cluster has a CA: its nodes then speak TLS only.
  bool tls() const;
  // Makes the CA, unless there is one, and a certificate for every member
  // that has none.
  Status EnableTls();
  // What a client of this cluster needs to connect (empty without TLS).
  ClientOptions::Tls ClientTls() const;

 private:
  LocalCluster(std::string dir, std::string node_binary, ClusterFile file);
  std::string ClusterPath() const { return dir_ + "/cluster.toml"; }
  std::string NodeFlagsPath() const { return dir_ + "/node-flags"; }
  std::vector<std::string> Command(const ClusterMember& member, bool sync) const;
  Result<pid_t> Spawn(const ClusterMember& member, const std::vector<std::string>& command);

  std::string dir_;  // absolute
  std::string node_binary_;
  ClusterFile file_;
  NodeFlags node_flags_;
};

// Pings `address` once; true when it answers within the timeout.
bool PingNode(const std::string& address, std::chrono::milliseconds timeout,
              const ClientOptions::Tls& tls = {});

// Asks the node at `address` for its status (client/client.h StatusOf).
Result<NodeView> QueryNodeStatus(const std::string& address, std::chrono::milliseconds timeout,
                                 const ClientOptions::Tls& tls = {});

// The last non-empty line of a file, for error messages ("" if none).
std::string LastLine(const std::string& path);

}  // namespace ringkv
