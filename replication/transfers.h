// Transfers: the partition streams of a ring change (docs/ring-changes.md,
// "Transfers").
//
// Sender: on each tick of the ring keeper, every move of the ring state
// whose sender is this node starts (at most `per_node` at once) once every
// member gossips the epoch that committed the change and a request
// deadline has passed since, so that every write from then on reaches the
// receiver too (replication/coordinator.cc counts the pair as one
// replica). It asks the receiver for its checkpoint, then streams the
// partition's snapshot (storage/partition_fold.h) after it in batches of
// about `batch_bytes`, paced to `mib_per_sec` for the whole node, and ends
// with a `last` batch.
//
// Receiver: merges each batch through the replica (Replica::Merge, the
// path every repair takes), then persists the batch's last object as the
// checkpoint of (partition, sender, change epoch) in one synced write, so
// a sender or receiver killed half way resumes after it instead of from
// the first object. When the `last` batch is stored the sender's keeper
// tells the claimant; a sender restarted before that streams again from
// the checkpoint (nothing, or little) and tells it then.
//
// A batch for a move the receiver's ring state does not hold (stale,
// forged, another change's epoch) is refused. Single-threaded, on the
// node's loop, against Storage, Clock, Scheduler and PeerRpc only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/scheduler.h"
#include "common/status.h"
#include "proto/messages.h"
#include "replication/ring_state_codec.h"
#include "ring/ring_state.h"
#include "rpc/peer_rpc.h"
#include "storage/partition_fold.h"
#include "storage/storage.h"

namespace ringkv {

class Replica;

struct TransferOptions {
  uint32_t per_node = 2;         // outgoing transfers at once
  double mib_per_sec = 32;       // this node's outgoing pace; 0 = unpaced
  size_t batch_bytes = 256 << 10;
  // How long a batch may take to be stored and answered.
  int64_t batch_timeout_us = 10'000'000;
  // After every member gossips the change's epoch: the longest a write
  // sent before it knew may still be on its way.
  int64_t settle_us = 5'000'000;
};

class Transfers {
 public:
  // Pointers must outlive this.
  Transfers(TransferOptions options, NodeId self, PeerRpc* rpc, Replica* replica,
            Storage* storage, Clock* clock, Scheduler* scheduler, MetricsRegistry* metrics);
  ~Transfers();
  Transfers(const Transfers&) = delete;
  Transfers& operator=(const Transfers&) = delete;

  // Told of each move this node sent completely (the receiver stored its
  // `last` batch); the keeper tells the claimant.
  void SetOnSent(std::function<void(const Move&)> sent) { on_sent_ = std::move(sent); }

  // Starts what may start. `all_know` says every member gossips
  // `handover_epoch`: the epoch that set the change's senders (its commit,
  // or a later mark-down that gave a dead sender's moves to another
  // replica); streams start `settle_us` after it.
  void Tick(const RingState& state, bool all_know, uint64_t handover_epoch);

  // The receiver's side, registered on the PeerRpc by the keeper.
  void OnBatch(const PeerRpc::Request& request, TransferBatch& batch, const RingState& state,
               PeerRpc::Respond respond);
  // Objects and record bytes per partition, now.
  PartitionSizesReply Sizes(const std::vector<uint32_t>& partitions);

  // This node's transfers, as sender and as receiver.
  TransferReport Report() const;
  // Drops the checkpoints of changes other than `change_epoch` (0: all).
  void ForgetCheckpoints(uint64_t change_epoch);

  size_t active() const { return sending_.size(); }

  // The ring's limits over this node's flags (docs/ring-changes.md).
  void ApplyLimits(const TransferLimits& limits);
  uint32_t per_node() const { return options_.per_node; }
  double mib_per_sec() const { return options_.mib_per_sec; }

 private:
  struct Sending;
  using MoveKey = std::tuple<uint32_t, NodeId, NodeId>;
  struct Received {
    uint64_t objects = 0, bytes = 0;
    bool complete = false;
    int64_t started_us = 0;
  };

  void Begin(const Move& move, uint64_t change_epoch);
  void SendNext(const std::shared_ptr<Sending>& s);
  void Finish(const std::shared_ptr<Sending>& s, const Status& status);
  static std::string CheckpointKey(uint32_t partition, const NodeId& from, uint64_t epoch);

  TransferOptions options_;
  const TransferOptions flags_;  // as the node started
  NodeId self_;
  PeerRpc* rpc_;
  Replica* replica_;
  Storage* storage_;
  Clock* clock_;
  Scheduler* scheduler_;
  std::function<void(const Move&)> on_sent_;
  std::map<MoveKey, std::shared_ptr<Sending>> sending_;
  std::map<MoveKey, Received> received_;
  // Moves sent completely, in this change: not started again.
  std::map<MoveKey, uint64_t> sent_;
  uint64_t knew_since_epoch_ = 0;
  int64_t knew_since_us_ = 0;
  int64_t next_send_us_ = 0;  // the node-wide pace
  Counter* sent_objects_;
  Counter* sent_bytes_;
  Counter* received_objects_;
  Counter* received_bytes_;
  Counter* refused_batches_;
  MetricsRegistry::CallbackHandle active_gauge_;
  MetricsRegistry::CallbackHandle limit_streams_gauge_;
  MetricsRegistry::CallbackHandle limit_pace_gauge_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ringkv
