#include "replication/hinted_handoff.h"

#include <algorithm>
#include <vector>

#include "proto/codec.h"
#include "storage/keys.h"

namespace ringkv {

HintedHandoff::HintedHandoff(PeerRpc* rpc, HintStore* hints, const Liveness* liveness,
                             HandoffOptions options, Clock* clock, Scheduler* scheduler,
                             MetricsRegistry* metrics)
    : rpc_(rpc),
      hints_(hints),
      liveness_(liveness),
      options_(options),
      clock_(clock),
      scheduler_(scheduler),
      delivered_(metrics->AddCounter(
          "ringkv_hints_delivered_total",
          "Hints their target acknowledged and this node then deleted.")),
      sent_(metrics->AddCounter("ringkv_hint_deliveries_sent_total",
                                "Hints sent to their target, retries included.")) {
  in_flight_gauge_ = metrics->AddGaugeCallback(
      "ringkv_hint_deliveries_in_flight", "Hints sent and not yet acknowledged.", {},
      [this] {
        size_t n = 0;
        for (const auto& [target, keys] : in_flight_) n += keys.size();
        return static_cast<double>(n);
      });
}

HintedHandoff::~HintedHandoff() {
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
    if (target != rpc_->self() && liveness_->IsUp(target)) targets.push_back(target);
  }
  for (const NodeId& target : targets) DeliverTo(target, now);
  timer_ = scheduler_->RunAfter(options_.tick_us, [this] { Tick(); });
}

void HintedHandoff::DeliverTo(const NodeId& target, int64_t now) {
  std::set<std::string>& flying = in_flight_[target];
  if (tokens_ < 1 || flying.size() >= options_.max_in_flight) return;
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
    // Still waiting for its ack (the cursor wrapped around to it): sent
    // again only once that delivery failed or timed out.
    if (!flying.insert(cursor).second) continue;
    ReplicaPutRequest delivery{entry.bucket, entry.key, entry.object, {}, /*handoff=*/true};
    sent_->Increment();
    rpc_->Call(target, std::move(delivery), now + options_.ack_timeout_us,
               [this, key = cursor, sent = std::move(entry)](Result<MessageBody> r) {
                 OnAck(key, sent, r);
               });
    tokens_ -= 1;
  }
}

void HintedHandoff::OnAck(const std::string& key, const HintStore::Entry& entry,
                          const Result<MessageBody>& answer) {
  in_flight_[entry.target].erase(key);
  const auto* ack = answer.ok() ? std::get_if<ReplicaPutReply>(&*answer) : nullptr;
  if (ack == nullptr || !ack->status.ok()) return;  // retried on a later pass
  auto removed = hints_->RemoveDelivered(entry);
  if (removed.ok() && *removed) delivered_->Increment();
}

}  // namespace ringkv
