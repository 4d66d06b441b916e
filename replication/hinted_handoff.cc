#include "replication/hinted_handoff.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "causality/object_limits.h"
#include "proto/codec.h"
#include "replication/replica.h"
#include "storage/keys.h"

namespace ringkv {

HintedHandoff::HintedHandoff(PeerRpc* rpc, HintStore* hints, Replica* replica,
                             const Liveness* liveness, HandoffOptions options, Clock* clock,
                             Scheduler* scheduler, MetricsRegistry* metrics)
    : rpc_(rpc),
      hints_(hints),
      replica_(replica),
      liveness_(liveness),
      options_(options),
      clock_(clock),
      scheduler_(scheduler),
      delivered_(metrics->AddCounter(
          "ringkv_hints_delivered_total",
          "Hints their target acknowledged and this node then deleted.")),
      sent_(metrics->AddCounter("ringkv_hint_deliveries_sent_total",
                                "Hint copies sent: to their target, or where a ring change "
                                "routed them, retries included.")),
      refused_(metrics->AddCounter(
          "ringkv_hint_deliveries_refused_total",
          "Hint deliveries that cannot succeed as the hint is: too large to send, or "
          "refused by the target as invalid or too large. Each parks the hint.")) {
  parked_gauge_ = metrics->AddGaugeCallback(
      "ringkv_hints_parked",
      "Hints left alone for a while because they cannot be delivered as they are.", {},
      [this] { return static_cast<double>(parked_.size()); });
  // A parked hint removed by someone else (anti-entropy's reaping drops
  // the hints a tombstone covers) must not stay counted as parked, nor
  // make AllParked skip a target whose newer hints are not parked.
  hints_->set_removed_observer([this](const std::string& hint_key) { parked_.erase(hint_key); });
  in_flight_gauge_ = metrics->AddGaugeCallback(
      "ringkv_hint_deliveries_in_flight", "Hints sent and not yet acknowledged.", {},
      [this] {
        size_t n = 0;
        for (const auto& [target, keys] : in_flight_) n += keys.size();
        return static_cast<double>(n);
      });
}

HintedHandoff::~HintedHandoff() {
  hints_->set_removed_observer(nullptr);
  if (timer_) scheduler_->Cancel(timer_);
}

void HintedHandoff::Start() {
  last_refill_us_ = clock_->MonoMicros();
  timer_ = scheduler_->RunAfter(options_.tick_us, [this] { Tick(); });
}

void HintedHandoff::Tick() {
  timer_ = 0;
  int64_t now = clock_->MonoMicros();
  // The bucket holds at most two ticks' worth, so a quiet spell does not
  // turn into a burst.
  double cap = std::max(1.0, options_.rate_per_sec * 2 * options_.tick_us / 1e6);
  tokens_ = std::min(cap, tokens_ + options_.rate_per_sec * (now - last_refill_us_) / 1e6);
  last_refill_us_ = now;

  std::vector<NodeId> targets;
  for (const auto& [target, count] : hints_->counts()) {
    if (target == rpc_->self()) continue;
    // Hints for a node that left go to its partitions' replicas now,
    // whatever the failure detector says of it.
    if (liveness_->IsUp(target) || (options_.member && !options_.member(target))) {
      targets.push_back(target);
    }
  }
  for (const NodeId& target : targets) DeliverTo(target, now);
  timer_ = scheduler_->RunAfter(options_.tick_us, [this] { Tick(); });
}

bool HintedHandoff::NothingToSend(const NodeId& target, const std::set<std::string>& flying,
                                  int64_t now) const {
  auto count = hints_->counts().find(target);
  if (count == hints_->counts().end()) return true;
  uint64_t waiting = flying.size();
  const std::string prefix = HintPrefix(target);
  for (auto it = parked_.lower_bound(prefix);
       it != parked_.end() && it->first.starts_with(prefix); ++it) {
    if (it->second.retry_at_us <= now) return false;
    if (!flying.contains(it->first)) ++waiting;
  }
  return waiting >= count->second;
}

void HintedHandoff::DeliverTo(const NodeId& target, int64_t now) {
  std::set<std::string>& flying = in_flight_[target];
  if (tokens_ < 1 || flying.size() >= options_.max_in_flight) return;
  // Listing reads and decodes every hint it passes, and one may be 15 MiB:
  // a large hint waiting for its ack must not be read again every tick.
  if (NothingToSend(target, flying, now)) return;
  size_t want =
      std::min<size_t>(options_.max_in_flight - flying.size(), static_cast<size_t>(tokens_));
  std::string& cursor = cursor_[target];
  auto batch = hints_->List(target, want, cursor);
  if (!batch.ok()) return;
  if (batch->empty()) {
    // Wrapped around: hints whose delivery failed are retried from the start.
    cursor.clear();
    return;
  }
  for (auto& entry : *batch) {
    cursor = HintKey(entry.target, entry.partition, entry.bucket, entry.key);
    if (auto parked = parked_.find(cursor);
        parked != parked_.end() && parked->second.retry_at_us > now) {
      continue;
    }
    if (const size_t size = ObjectSize(entry.object); size > kMaxMergedObjectBytes) {
      // Merged from writes its target missed apart: no frame carries it.
      refused_->Increment();
      Park(cursor, entry,
           Status::ObjectTooLarge(std::to_string(size) + " bytes, too large to send"), now);
      continue;
    }
    // Still waiting for its ack (the cursor wrapped around to it): sent
    // again only once that delivery failed or timed out.
    if (flying.contains(cursor)) continue;
    std::vector<NodeId> to = options_.route ? options_.route(entry) : std::vector<NodeId>{};
    if (to.empty()) to.push_back(target);
    // A rerouted hint waits until every node it now goes to is up.
    if (std::any_of(to.begin(), to.end(), [&](const NodeId& n) {
          return n != rpc_->self() && !liveness_->IsUp(n);
        })) {
      continue;
    }
    flying.insert(cursor);
    Deliver(cursor, std::move(entry), to, now);
    tokens_ -= 1;
  }
}

void HintedHandoff::Deliver(const std::string& key, HintStore::Entry entry,
                            const std::vector<NodeId>& to, int64_t now) {
  // One outcome for all the copies: the first failure, else ok.
  struct Copies {
    size_t waiting = 0;
    Status status;
  };
  auto copies = std::make_shared<Copies>();
  copies->waiting = to.size();
  auto sent = std::make_shared<HintStore::Entry>(std::move(entry));
  auto done = [this, key, sent, copies](const Status& st) {
    if (copies->status.ok()) copies->status = st;
    if (--copies->waiting == 0) OnAck(key, *sent, copies->status);
  };
  for (const NodeId& node : to) {
    sent_->Increment();
    if (node == rpc_->self()) {
      replica_->Merge(sent->partition, sent->bucket, sent->key, sent->object, done);
      continue;
    }
    ReplicaPutRequest delivery{sent->bucket, sent->key, sent->object, {}, /*handoff=*/true};
    rpc_->Call(node, std::move(delivery), now + options_.ack_timeout_us,
               [done, node](Result<MessageBody> r) {
                 Status status = r.status();
                 if (r.ok()) {
                   const auto* ack = std::get_if<ReplicaPutReply>(&*r);
                   status = ack != nullptr ? ack->status
                                           : Status::Internal(node + ": not a replica put reply");
                 }
                 done(status);
               });
  }
}

void HintedHandoff::OnAck(const std::string& key, const HintStore::Entry& entry,
                          const Status& status) {
  in_flight_[entry.target].erase(key);
  if (status.IsInvalidArgument() || status.IsObjectTooLarge() || status.IsCorruption()) {
    // The target will refuse it again however often it is sent.
    refused_->Increment();
    Park(key, entry, status, clock_->MonoMicros());
    return;
  }
  if (!status.ok()) return;  // retried on a later pass
  parked_.erase(key);
  auto removed = hints_->RemoveDelivered(entry);
  if (removed.ok() && *removed) delivered_->Increment();
}

void HintedHandoff::Park(const std::string& key, const HintStore::Entry& entry,
                         const Status& why, int64_t now) {
  Parked& p = parked_[key];
  p.target = entry.target;
  p.backoff_us = p.backoff_us == 0 ? options_.park_initial_us
                                   : std::min(options_.park_max_us, 2 * p.backoff_us);
  p.retry_at_us = now + p.backoff_us;
  if (options_.warn) {
    options_.warn("hint for " + entry.target + " of " + entry.bucket + "/" + entry.key +
                  " cannot be delivered (" + why.ToString() + "); parked for " +
                  std::to_string(p.backoff_us / 1'000'000) + " s");
  }
}

}  // namespace ringkv
