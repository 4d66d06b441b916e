// ChaosCluster: a local cluster (tools/local_cluster.h) for the chaos
// harness, in a fresh temporary directory on free ports below the kernel's
// ephemeral range, with the faults the nemesis injects and direct reads of
// each replica.
//
// With distinct hosts (the default) node i serves on 127.0.0.(i + 1), so
// Netfilter can cut one pair. The destructor stops every node (SIGTERM, then
// SIGKILL), SIGKILLs any process it started that still runs and still names
// its directory (so a failing run leaves nothing behind), and removes the
// directory unless KeepDirectory() was called. A harness that dies without
// running destructors (SIGKILL, a crash) leaves its nodes running: the next
// Start stops them (the directory records its owner's PID).
//
// Thread-compatible: the harness's main thread drives it; workload threads
// only read the addresses.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/node_connection.h"
#include "common/status.h"
#include "ring/ring.h"
#include "tests/chaos/checkers.h"
#include "tests/chaos/netfilter.h"
#include "tools/local_cluster.h"

namespace ringkv::chaos {

struct ChaosClusterOptions {
  int nodes = 5;
  uint32_t n = 3;
  std::optional<uint32_t> partitions;  // ringkv-cluster's default when unset
  bool distinct_hosts = true;
  // name, "resolver=lww" (ringkv-cluster --bucket)
  std::vector<std::pair<std::string, std::string>> buckets;
  // ringkv-node flags, "--gossip-interval-ms" -> "200"
  std::map<std::string, std::string> node_flags;
  std::string node_binary;
};

class ChaosCluster {
 public:
  // Creates the directory, picks ports, starts every node and waits until
  // each serves and sees the others up.
  static Result<std::unique_ptr<ChaosCluster>> Start(const ChaosClusterOptions& options);
  ~ChaosCluster();
  ChaosCluster(const ChaosCluster&) = delete;
  ChaosCluster& operator=(const ChaosCluster&) = delete;

  int nodes() const { return static_cast<int>(cluster_.file().members.size()); }
  // Node i is 1-based.
  const std::string& Address(int node) const;
  Endpoint EndpointOf(int node) const;
  const std::string& dir() const { return cluster_.dir(); }
  // The key's primaries as 1-based node numbers, in preference order.
  std::vector<int> Primaries(const std::string& bucket, const std::string& key) const;
  // The key's partition (what `ringkv-admin aae exchange` takes).
  uint32_t Partition(const std::string& bucket, const std::string& key) const;
  const BucketProps& Props(const std::string& bucket) const;

  Status Kill(int node);    // SIGKILL; returns once the process is gone
  Status Pause(int node);   // SIGSTOP; returns once it is stopped
  Status Resume(int node);  // SIGCONT
  // Removes the data directory of a node that is not running.
  Status Wipe(int node);
  // Starts a node that is not running and waits until it serves.
  Status Restart(int node);
  bool Running(int node) const;
  bool Paused(int node) const;

  // Reads the key from each of its primaries (ReplicaGetRequest on a client
  // connection), at most `timeout` for each.
  KeyState ReadKey(const std::string& bucket, const std::string& key,
                   std::chrono::milliseconds timeout);
  // Hints every node holds for others; nullopt when a node did not answer.
  std::optional<uint64_t> HintsPending(std::chrono::milliseconds timeout) const;
  // Polls until every node answers a ping and believes every other node up,
  // or the timeout passes.
  Status WaitAllServing(std::chrono::milliseconds timeout) const;

  void KeepDirectory() { keep_ = true; }
  // "n3: <last line of its log>" for every node, for failure messages.
  std::string LogTails() const;

 private:
  ChaosCluster(std::string temp_root, LocalCluster cluster, Ring ring);
  const ClusterMember& Member(int node) const;

  std::string temp_root_;  // removed by the destructor unless keep_
  LocalCluster cluster_;
  Ring ring_;
  std::vector<pid_t> pids_;                               // every node process this cluster started
  std::map<int, std::unique_ptr<NodeConnection>> reads_;  // direct replica reads
  uint64_t next_request_id_ = 1;
  bool keep_ = false;
};

// The ringkv-node binary: `flag` if set, else $RINGKV_BIN_DIR/node/ringkv-node,
// else relative to this executable (build/tests/chaos -> build/node).
Result<std::string> FindNodeBinary(const std::string& flag);

}  // namespace ringkv::chaos
