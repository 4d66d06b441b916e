// Client workloads: simulated clients issuing gets, puts and deletes through
// Service::HandleClientRequest on chosen nodes, recording every operation in
// a History.
//
// ClientWorkload runs `clients` independent clients, each doing one
// operation at a time with a think time between, on a small key set so that
// writes collide: blind puts, read-modify-writes (a get, then a put carrying
// its context) and deletes (a get, then a tombstone with its context). Each
// operation has a client-side watchdog: a reply later than the request's
// deadline (plus a small slack for clock drift), or none at all from a node
// that was never disturbed, is recorded as a hang. The Client helper issues
// single operations for scenario scripts. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tests/sim/history.h"
#include "tests/sim/sim_cluster.h"

namespace ringkv::sim {

// Issues single operations and records them.
class Client {
 public:
  // `cluster` and `history` outlive the client.
  Client(SimCluster* cluster, History* history, int id) : cluster_(cluster), history_(history), id_(id) {}

  using Done = std::function<void(const Op&)>;
  void Get(int node, const std::string& bucket, const std::string& key, uint32_t r,
           uint32_t timeout_ms, Done done);
  // Blind when `context` is empty.
  void Put(int node, const std::string& bucket, const std::string& key, const std::string& value,
           const VersionVector& context, uint32_t w, uint32_t timeout_ms, Done done,
           int64_t based_on = -1);
  // `based_on`: the get whose reply supplied `context` (for the checkers).
  void Delete(int node, const std::string& bucket, const std::string& key,
              const VersionVector& context, uint32_t w, uint32_t timeout_ms, Done done,
              int64_t based_on = -1);

  // The next write's context came from this get (when not passed).
  void set_based_on(int64_t get_id) { pending_based_on_ = get_id; }

  // Operations that completed after their deadline, or never from an
  // undisturbed node.
  const std::vector<std::string>& hangs() const { return hangs_; }

 private:
  void Issue(Op op, uint32_t timeout_ms, Done done);
  void Complete(uint64_t op_id, const Message& reply);

  SimCluster* cluster_;
  History* history_;
  int id_;
  uint64_t next_request_ = 1;
  int64_t pending_based_on_ = -1;
  std::vector<std::string> hangs_;
};

struct WorkloadOptions {
  std::string bucket = "b";
  int clients = 4;
  int keys = 16;
  // Every operation on a key never used before (write-once keys): a replica
  // that missed a write can only get it from the write itself or a hint.
  bool fresh_keys = false;
  int64_t start_us = 0;
  int64_t end_us = 10'000'000;
  int64_t max_think_us = 50'000;
  uint32_t timeout_ms = 1000;
  // Operation mix in percent (the rest are gets).
  int put_pct = 40;
  int rmw_pct = 25;
  int delete_pct = 10;
  uint32_t r = 0, w = 0;  // kQuorumDefault
  // Only coordinate through nodes that are up (a dead node's request is lost
  // before it starts and tells nothing).
  bool only_live_nodes = true;
};

class ClientWorkload {
 public:
  ClientWorkload(SimCluster* cluster, History* history, WorkloadOptions options);
  // Schedules the clients' first operations.
  void Start();
  std::vector<std::string> hangs() const;
  std::string KeyName(int k) const;
  const WorkloadOptions& options() const { return options_; }

 private:
  void Next(int c);
  void Schedule(int c);
  int PickNode();

  SimCluster* cluster_;
  History* history_;
  WorkloadOptions options_;
  Random random_;
  std::vector<std::unique_ptr<Client>> clients_;
  uint64_t next_value_ = 0;
  uint64_t next_key_ = 0;
};

}  // namespace ringkv::sim
