#include "replication/transfers.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "causality/object_codec.h"
#include "common/hash.h"
#include "replication/replica.h"
#include "storage/keys.h"
#include "storage/record.h"

namespace ringkv {
namespace {

// Checkpoint value: varint-free, len(bucket):uint32le bucket key.
std::string EncodeCheckpoint(const std::string& bucket, const std::string& key) {
  std::string out;
  const uint32_t len = static_cast<uint32_t>(bucket.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  out += bucket;
  out += key;
  return out;
}

Result<ObjectName> DecodeCheckpoint(std::string_view value) {
  if (value.size() < 4) return Status::Corruption("transfer checkpoint too short");
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i) len |= uint32_t{static_cast<uint8_t>(value[i])} << (8 * i);
  if (value.size() - 4 < len) return Status::Corruption("transfer checkpoint truncated");
  return ObjectName{std::string(value.substr(4, len)), std::string(value.substr(4 + len))};
}

// The partition of a key on a ring of `partitions` (a power of two): the
// top bits of its hash, as Ring::PartitionOf.
uint32_t PartitionOfKey(uint32_t partitions, const std::string& bucket, const std::string& key) {
  if (partitions <= 1) return 0;
  return static_cast<uint32_t>(KeyHash(bucket, key) >> (64 - std::countr_zero(partitions)));
}

Counter* ObjectsCounter(MetricsRegistry* metrics, const char* direction) {
  return metrics->AddCounter("ringkv_transfer_objects_total",
                             "Objects streamed by partition transfers.",
                             {{"direction", direction}});
}

Counter* BytesCounter(MetricsRegistry* metrics, const char* direction) {
  return metrics->AddCounter("ringkv_transfer_bytes_total",
                             "Record bytes streamed by partition transfers.",
                             {{"direction", direction}});
}

}  // namespace

struct Transfers::Sending {
  Move move;
  uint64_t change_epoch = 0;
  std::unique_ptr<Snapshot> snapshot;
  std::optional<ObjectName> after;  // the last object the receiver stored
  bool exhausted = false;
  uint64_t objects = 0, bytes = 0;
  uint64_t total_objects = 0, total_bytes = 0;
  int64_t started_us = 0;
  TimerId timer = 0;
  PeerRpc::CallId call = 0;
};

Transfers::Transfers(TransferOptions options, NodeId self, PeerRpc* rpc, Replica* replica,
                     Storage* storage, Clock* clock, Scheduler* scheduler,
                     MetricsRegistry* metrics)
    : options_(options),
      flags_(options),
      self_(std::move(self)),
      rpc_(rpc),
      replica_(replica),
      storage_(storage),
      clock_(clock),
      scheduler_(scheduler),
      sent_objects_(ObjectsCounter(metrics, "sent")),
      sent_bytes_(BytesCounter(metrics, "sent")),
      received_objects_(ObjectsCounter(metrics, "received")),
      received_bytes_(BytesCounter(metrics, "received")),
      refused_batches_(metrics->AddCounter(
          "ringkv_transfer_refused_batches_total",
          "Transfer batches refused: for a move this node's ring state does not hold, or "
          "with an object it could not store.")) {
  active_gauge_ = metrics->AddGaugeCallback(
      "ringkv_transfers_active", "Partition transfers this node is sending now.", {},
      [this] { return static_cast<double>(sending_.size()); });
  limit_streams_gauge_ = metrics->AddGaugeCallback(
      "ringkv_transfer_limit_streams",
      "Transfers this node sends at once at most: the ring's limit, else its flag.", {},
      [this] { return static_cast<double>(options_.per_node); });
  limit_pace_gauge_ = metrics->AddGaugeCallback(
      "ringkv_transfer_limit_bytes_per_second",
      "This node's outgoing transfer pace in bytes/s (0 unpaced): the ring's limit, else its "
      "flag.",
      {}, [this] { return options_.mib_per_sec * 1024 * 1024; });
}

Transfers::~Transfers() {
  *alive_ = false;
  for (auto& [key, s] : sending_) {
    if (s->timer != 0) scheduler_->Cancel(s->timer);
    if (s->call != 0) rpc_->Cancel(s->call);
  }
}

void Transfers::ApplyLimits(const TransferLimits& limits) {
  options_.per_node = limits.per_node > 0 ? limits.per_node : flags_.per_node;
  options_.mib_per_sec = limits.mib_per_sec >= 0 ? limits.mib_per_sec : flags_.mib_per_sec;
}

std::string Transfers::CheckpointKey(uint32_t partition, const NodeId& from, uint64_t epoch) {
  return MetaKey("transfer/" + std::to_string(epoch) + "/" + std::to_string(partition) + "/" +
                 from);
}

void Transfers::Tick(const RingState& state, bool all_know, uint64_t handover_epoch) {
  if (!state.changing()) {
    sent_.clear();
    return;
  }
  const int64_t now = clock_->MonoMicros();
  if (!all_know) {
    knew_since_epoch_ = 0;
    return;
  }
  if (knew_since_epoch_ != handover_epoch) {
    knew_since_epoch_ = handover_epoch;
    knew_since_us_ = now;
  }
  if (now - knew_since_us_ < options_.settle_us) return;
  for (const Move& m : state.transfers) {
    if (sending_.size() >= options_.per_node) break;
    if (m.from != self_ || m.done) continue;
    const MoveKey key{m.partition, m.from, m.to};
    if (sending_.count(key) != 0) continue;
    auto sent = sent_.find(key);
    if (sent != sent_.end() && sent->second == state.change_epoch) continue;
    Begin(m, state.change_epoch);
  }
}

void Transfers::Begin(const Move& move, uint64_t change_epoch) {
  auto s = std::make_shared<Sending>();
  s->move = move;
  s->change_epoch = change_epoch;
  s->started_us = clock_->MonoMicros();
  sending_[{move.partition, move.from, move.to}] = s;
  TransferBatch start;
  start.partition = move.partition;
  start.change_epoch = change_epoch;
  start.start = true;
  s->call = rpc_->Call(
      move.to, std::move(start), clock_->MonoMicros() + options_.batch_timeout_us,
      [this, s, alive = alive_](Result<MessageBody> r) {
        if (!*alive) return;
        s->call = 0;
        if (!r.ok()) return Finish(s, r.status());
        auto* reply = std::get_if<TransferBatchReply>(&*r);
        if (reply == nullptr) return Finish(s, Status::Internal("unexpected transfer reply"));
        if (!reply->status.ok()) return Finish(s, reply->status);
        if (reply->resume) s->after = ObjectName{reply->bucket, reply->key};
        s->objects = reply->objects;
        s->bytes = reply->bytes;
        // The snapshot is taken only now, after the receiver answered:
        // everything written before this instant is in it.
        s->snapshot = storage_->GetSnapshot();
        PartitionSizesReply sizes = Sizes({s->move.partition});
        if (!sizes.keys.empty()) {
          s->total_objects = sizes.keys[0];
          s->total_bytes = sizes.bytes[0];
        }
        SendNext(s);
      });
}

void Transfers::SendNext(const std::shared_ptr<Sending>& s) {
  const int64_t now = clock_->MonoMicros();
  if (next_send_us_ > now) {
    s->timer = scheduler_->RunAfter(next_send_us_ - now, [this, s, alive = alive_] {
      if (!*alive) return;
      s->timer = 0;
      SendNext(s);
    });
    return;
  }
  TransferBatch batch;
  batch.partition = s->move.partition;
  batch.change_epoch = s->change_epoch;
  size_t bytes = 0;
  Status bad;
  Status st = FoldPartition(
      storage_, *s->snapshot, s->move.partition, s->after,
      [&](std::string_view bucket, std::string_view key, std::string_view record) {
        if (bytes >= options_.batch_bytes) return false;
        Result<std::string_view> body = DecodeRecord(record);
        Result<Object> object = body.ok() ? DecodeObject(*body) : Result<Object>(body.status());
        if (!object.ok()) {
          bad = Status::Corruption("object " + std::string(bucket) + "/" + std::string(key) +
                                   " of partition " + std::to_string(s->move.partition) +
                                   " is unreadable: " + object.status().message());
          return false;
        }
        batch.entries.push_back({std::string(bucket), std::string(key), std::move(*object)});
        bytes += record.size();
        return true;
      });
  if (!bad.ok()) return Finish(s, bad);
  if (!st.ok()) return Finish(s, st);
  if (batch.entries.empty() || bytes < options_.batch_bytes) batch.last = true;
  if (!batch.entries.empty()) {
    s->after = ObjectName{batch.entries.back().bucket, batch.entries.back().key};
  }
  const size_t count = batch.entries.size();
  if (options_.mib_per_sec > 0) {
    next_send_us_ = std::max(next_send_us_, now) +
                    static_cast<int64_t>(static_cast<double>(bytes) * 1e6 /
                                         (options_.mib_per_sec * 1024 * 1024));
  }
  const bool last = batch.last;
  s->call = rpc_->Call(
      s->move.to, std::move(batch), now + options_.batch_timeout_us,
      [this, s, count, bytes, last, alive = alive_](Result<MessageBody> r) {
        if (!*alive) return;
        s->call = 0;
        if (!r.ok()) return Finish(s, r.status());
        auto* reply = std::get_if<TransferBatchReply>(&*r);
        if (reply == nullptr) return Finish(s, Status::Internal("unexpected transfer reply"));
        if (!reply->status.ok()) return Finish(s, reply->status);
        s->objects += count;
        s->bytes += bytes;
        sent_objects_->Add(count);
        sent_bytes_->Add(bytes);
        if (last) return Finish(s, Status::OK());
        SendNext(s);
      });
}

void Transfers::Finish(const std::shared_ptr<Sending>& s, const Status& status) {
  const MoveKey key{s->move.partition, s->move.from, s->move.to};
  // Failed: the next tick starts it again, from the receiver's checkpoint.
  sending_.erase(key);
  if (status.ok()) {
    sent_[key] = s->change_epoch;
    if (on_sent_) on_sent_(s->move);
  }
}

void Transfers::OnBatch(const PeerRpc::Request& request, TransferBatch& batch,
                        const RingState& state, PeerRpc::Respond respond) {
  TransferBatchReply reply;
  const auto move = std::find_if(state.transfers.begin(), state.transfers.end(),
                                 [&](const Move& m) {
                                   return m.partition == batch.partition &&
                                          m.from == request.from && m.to == self_;
                                 });
  if (batch.change_epoch != state.change_epoch || move == state.transfers.end()) {
    refused_batches_->Increment();
    reply.status = Status::InvalidArgument(
        "no transfer of partition " + std::to_string(batch.partition) + " from " + request.from +
        " to " + self_ + " in change " + std::to_string(batch.change_epoch) +
        " (this node's ring is at epoch " + std::to_string(state.epoch) + ")");
    return respond(std::move(reply));
  }
  const MoveKey key{batch.partition, request.from, self_};
  Received& received = received_[key];
  if (received.started_us == 0) received.started_us = clock_->MonoMicros();
  const std::string checkpoint = CheckpointKey(batch.partition, request.from, batch.change_epoch);
  if (batch.start) {
    std::string value;
    Status st = storage_->Get(checkpoint, &value);
    if (st.ok()) {
      Result<ObjectName> at = DecodeCheckpoint(value);
      if (at.ok()) {
        reply.resume = true;
        reply.bucket = at->bucket;
        reply.key = at->key;
      }
    } else if (!st.IsNotFound()) {
      reply.status = st;
    }
    reply.objects = received.objects;
    reply.bytes = received.bytes;
    return respond(std::move(reply));
  }
  for (const TransferEntry& e : batch.entries) {
    if (PartitionOfKey(state.partitions, e.bucket, e.key) != batch.partition) {
      refused_batches_->Increment();
      reply.status = Status::InvalidArgument("transfer batch for partition " +
                                             std::to_string(batch.partition) + " holds " +
                                             e.bucket + "/" + e.key + " of another partition");
      return respond(std::move(reply));
    }
  }
  uint64_t bytes = 0;
  for (const TransferEntry& e : batch.entries) {
    Result<Object> merged = replica_->Merge(batch.partition, e.bucket, e.key, e.object);
    if (!merged.ok()) {
      refused_batches_->Increment();
      reply.status = merged.status();
      return respond(std::move(reply));
    }
    bytes += EncodeObject(e.object).size() + kRecordHeaderSize;
  }
  if (!batch.entries.empty()) {
    WriteBatch wb;
    wb.Put(checkpoint, EncodeCheckpoint(batch.entries.back().bucket, batch.entries.back().key));
    if (Status st = storage_->Write(wb, /*sync=*/true); !st.ok()) {
      reply.status = st;
      return respond(std::move(reply));
    }
  }
  received.objects += batch.entries.size();
  received.bytes += bytes;
  received_objects_->Add(batch.entries.size());
  received_bytes_->Add(bytes);
  if (batch.last) received.complete = true;
  reply.objects = received.objects;
  reply.bytes = received.bytes;
  respond(std::move(reply));
}

PartitionSizesReply Transfers::Sizes(const std::vector<uint32_t>& partitions) {
  PartitionSizesReply reply;
  for (uint32_t p : partitions) {
    uint64_t keys = 0, bytes = 0;
    PartitionIterator it(storage_, nullptr, p);
    for (it.SeekToFirst(); it.Valid(); it.Next()) {
      ++keys;
      bytes += it.record().size();
    }
    if (!it.status().ok()) reply.status = it.status();
    reply.keys.push_back(keys);
    reply.bytes.push_back(bytes);
  }
  return reply;
}

TransferReport Transfers::Report() const {
  TransferReport report;
  report.node = self_;
  const int64_t now = clock_->MonoMicros();
  for (const auto& [key, s] : sending_) {
    TransferProgress t;
    t.partition = s->move.partition;
    t.from = s->move.from;
    t.to = s->move.to;
    t.state = "streaming";
    t.objects = s->objects;
    t.bytes = s->bytes;
    t.total_objects = std::max(s->total_objects, s->objects);
    t.total_bytes = std::max(s->total_bytes, s->bytes);
    const double secs = static_cast<double>(now - s->started_us) / 1e6;
    t.bytes_per_sec = secs > 0 ? static_cast<double>(s->bytes) / secs : 0;
    t.eta_sec = t.bytes_per_sec > 0
                    ? static_cast<double>(t.total_bytes - t.bytes) / t.bytes_per_sec
                    : 0;
    report.transfers.push_back(std::move(t));
  }
  for (const auto& [key, r] : received_) {
    TransferProgress t;
    t.partition = std::get<0>(key);
    t.from = std::get<1>(key);
    t.to = std::get<2>(key);
    t.state = r.complete ? "received" : "receiving";
    t.objects = r.objects;
    t.bytes = r.bytes;
    const double secs = static_cast<double>(now - r.started_us) / 1e6;
    t.bytes_per_sec = secs > 0 && !r.complete ? static_cast<double>(r.bytes) / secs : 0;
    report.transfers.push_back(std::move(t));
  }
  return report;
}

void Transfers::ForgetCheckpoints(uint64_t change_epoch) {
  const std::string prefix = MetaKey("transfer/");
  std::unique_ptr<Iterator> it =
      storage_->NewIterator(IteratorOptions{prefix, PrefixEnd(prefix), nullptr});
  WriteBatch wb;
  const std::string keep = change_epoch == 0 ? std::string() : prefix + std::to_string(change_epoch) + "/";
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    if (!keep.empty() && it->key().substr(0, keep.size()) == keep) continue;
    wb.Delete(it->key());
  }
  if (!wb.empty()) (void)storage_->Write(wb, false);
  if (change_epoch == 0) received_.clear();
}

}  // namespace ringkv
