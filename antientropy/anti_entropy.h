// AntiEntropy: active anti-entropy for one node (docs/anti-entropy.md). It
// keeps the node's trees in step with every object write
// (Trees, the service's object write observer), serves the exchange
// requests of its peers on PeerRpc, and runs one exchange at a time,
// round robin over (partition, peer) for every partition this node is a
// primary of and every other primary believed up. Repairs go through the
// replica's causal merge, paced by token buckets for objects and bytes.
// It answers ringkv-admin's `aae status`, `aae exchange` and `aae reap`.
//
// Built by the node's assembly (node/node.h) after the service, on the
// node's loop; Start once, Stop at a clean shutdown (saves the trees).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "antientropy/exchange.h"
#include "antientropy/reaper.h"
#include "antientropy/token_bucket.h"
#include "antientropy/trees.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "common/random.h"
#include "common/scheduler.h"
#include "replication/service.h"
#include "storage/storage.h"

namespace ringkv::aae {

struct AntiEntropyOptions {
  // Off: no index, no trees, no exchanges; the data directory is marked so
  // that turning it on later rebuilds the index from the objects.
  bool enabled = true;
  // Time between two exchanges of this node (each covers one partition
  // with one peer); a little jitter is added.
  int64_t interval_us = 2'000'000;
  // Pause between the two readings of each tree level; 0: a quarter of the
  // interval, at most 500 ms.
  int64_t confirm_pause_us = 0;
  int64_t step_timeout_us = 10'000'000;
  uint32_t max_segments = 128;
  double repair_objects_per_sec = 500;
  double repair_bytes_per_sec = 8 << 20;
  // Each partition's index is checked against its objects this often
  // (spread over the partitions), then its tree is rebuilt.
  int64_t verify_interval_us = int64_t{7} * 24 * 3600 * 1'000'000;
  TreesOptions trees;
};

class AntiEntropy {
 public:
  // Everything must outlive this. `storage` is the node's (the cache).
  AntiEntropy(AntiEntropyOptions options, Service* service, Storage* storage, Clock* clock,
              Scheduler* scheduler, Random* random, MetricsRegistry* metrics);
  ~AntiEntropy();
  AntiEntropy(const AntiEntropy&) = delete;
  AntiEntropy& operator=(const AntiEntropy&) = delete;

  // Opens the trees, installs the write observer, serves peers, starts the
  // schedule. Errors: the storage's.
  Status Start();
  // Clean shutdown: stops exchanging and saves the trees with their marker.
  Status Stop();

  // ringkv-admin's requests (AaeStatusRequest, AaeExchangeRequest,
  // AaeReapNowRequest).
  void HandleAdmin(MessageBody& body, int64_t deadline_us, PeerRpc::Respond respond);

  // Forces one exchange of `partition` now, with `peer` (empty: its next
  // peer in turn). Busy while another runs.
  void ExchangeNow(uint32_t partition, const NodeId& peer,
                   std::function<void(AaeExchangeReply)> done);

  // Runs one reaping round of `partition` now (docs/anti-entropy.md,
  // "Reaping tombstones"), whether or not it is due. Busy while an
  // exchange or another round runs.
  void ReapNow(uint32_t partition, std::function<void(ReapResult)> done);

  // A full pass (rounds until the end of the index) over one partition or
  // every partition this node is a primary of, now; one AaeReapPass per
  // partition. Busy while an exchange, a round or another pass runs.
  void PassNow(const AaeReapNowRequest& request, std::function<void(AaeReapNowReply)> done);

  bool enabled() const { return options_.enabled; }
  bool exchanging() const {
    return exchange_ != nullptr || reap_ != nullptr || pass_ != nullptr;
  }
  Trees* trees() { return trees_.get(); }
  // Per (partition, peer): wall-clock time (us) of the start of the last
  // exchange that ended clean. A partition is due for a reaping round when
  // each of its peers had one since its last round (scheduling only: the
  // round checks every replica itself, so this need not survive a restart).
  const std::map<std::pair<uint32_t, NodeId>, int64_t>& last_clean() const { return last_clean_; }
  AaeStatusReply StatusReport(bool verify);

 private:
  struct PartitionState {
    int64_t last_exchange_us = 0;
    NodeId last_peer;
    std::string last_result;
    uint64_t keys_repaired = 0;
    uint64_t bytes_sent = 0;
    size_t next_peer = 0;
    // Start (wall-clock us) of the last reaping round that reached the end
    // of the partition's index; where the next round resumes.
    int64_t last_reap_us = 0;
    std::string reap_cursor;
    // Tombstones the rounds of the pass in progress left; at the pass's
    // end they become `tombstones_pending` (aae status), which removals
    // here lower until the next pass ends.
    uint64_t pass_left = 0;
    uint64_t tombstones_pending = 0;
    uint64_t tombstones_reaped = 0;
    int64_t pass_ended_us = 0;
  };
  struct ForcedPass {
    std::vector<uint32_t> partitions;
    size_t next = 0;
    AaeReapNowReply reply;
    std::function<void(AaeReapNowReply)> done;
  };
  // The other primaries of `partition`, in ring order.
  std::vector<NodeId> PeersOf(uint32_t partition) const;
  // Every other member of the ring: the possible stand-ins of `partition`.
  std::vector<NodeId> OthersOf(uint32_t partition) const;
  bool IsPrimary(uint32_t partition) const;
  void ServePeers();
  void ScheduleTick();
  void Tick();
  void ScheduleVerify();
  void Run(uint32_t partition, const NodeId& peer, std::function<void(AaeExchangeReply)> done);
  void Finished(ExchangeResult result, int64_t started_wall_us,
                std::function<void(AaeExchangeReply)> done);
  // A partition whose every peer had a clean exchange since its last round.
  bool ReapDue(uint32_t partition) const;
  void RunReap(uint32_t partition, std::function<void(ReapResult)> done);
  // Runs the forced pass's next round, or answers when it is done.
  void PassStep();
  // Counts `n` tombstones of `partition` removed here.
  void Reaped(uint32_t partition, uint64_t n);
  ReapEnv MakeReapEnv();
  // The partition's tree for a peer's request, or the error to answer.
  Result<const HashTree*> TreeFor(uint32_t partition, uint32_t shape, uint32_t hash_version);
  void CountSent(const MessageBody& body, size_t bytes);

  AntiEntropyOptions options_;
  Service* service_;
  Storage* storage_;
  Clock* clock_;
  Scheduler* scheduler_;
  Random* random_;
  std::unique_ptr<Trees> trees_;
  TokenBucket objects_;
  TokenBucket bytes_;
  std::unique_ptr<Exchange> exchange_;
  std::unique_ptr<ReapRound> reap_;
  std::unique_ptr<ForcedPass> pass_;
  std::vector<PartitionState> partitions_;
  // Round-robin position over (partition, peer) pairs.
  uint32_t next_partition_ = 0;
  uint32_t next_verify_ = 0;
  bool reaped_last_tick_ = false;
  std::map<std::pair<uint32_t, NodeId>, int64_t> last_clean_;
  TimerId tick_ = 0;
  TimerId verify_timer_ = 0;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  Counter* exchanges_[4];  // by result: equal, repaired, clean, error
  Counter* segments_differing_;
  Counter* keys_differing_;
  Counter* keys_repaired_;
  Counter* repair_failures_;
  Counter* sent_tree_;
  Counter* sent_keys_;
  Counter* sent_reap_;
  Counter* repair_bytes_;
  Counter* refused_;
  Counter* tombstones_reaped_;
  Counter* reap_rounds_;
  MetricsRegistry::CallbackHandle pending_gauge_;
};

}  // namespace ringkv::aae
