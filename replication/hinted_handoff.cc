#include "replication/hinted_handoff.h"

#include <algorithm>
#include <vector>

#include "proto/codec.h"
#include "storage/keys.h"

namespace ringkv {

HintedHandoff::HintedHandoff(Outbox* outbox, HintStore* hints, const Liveness* liveness,
                             HandoffOptions options, Clock* clock, Scheduler* scheduler)
    : outbox_(outbox),
      hints_(hints),
      liveness_(liveness),
      options_(options),
      clock_(clock),
      scheduler_(scheduler) {}

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

  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (now - it->second.sent_us > options_.ack_timeout_us) {
      --in_flight_count_[it->second.entry.target];
      it = in_flight_.erase(it);
    } else {
      ++it;
    }
  }
  std::vector<NodeId> targets;
  for (const auto& [target, count] : hints_->counts()) {
    if (target != outbox_->self() && liveness_->IsUp(target)) targets.push_back(target);
  }
  for (const NodeId& target : targets) DeliverTo(target, now);
  timer_ = scheduler_->RunAfter(options_.tick_us, [this] { Tick(); });
}

void HintedHandoff::DeliverTo(const NodeId& target, int64_t now) {
  uint32_t& flying = in_flight_count_[target];
  if (tokens_ < 1 || flying >= options_.max_in_flight) return;
  size_t want = std::min<size_t>(options_.max_in_flight - flying, static_cast<size_t>(tokens_));
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
    Message m;
    m.request_id = (uint64_t{1} << 63) | next_id_++;
    m.timeout_ms = static_cast<uint32_t>(options_.ack_timeout_us / 1000);
    m.body = ReplicaPutRequest{entry.bucket, entry.key, entry.object, {}};
    const uint64_t id = m.request_id;
    outbox_->Send(target, std::move(m));
    in_flight_[id] = InFlight{std::move(entry), now};
    ++flying;
    tokens_ -= 1;
  }
}

void HintedHandoff::OnReply(const Message& reply) {
  auto it = in_flight_.find(reply.request_id);
  if (it == in_flight_.end()) return;
  InFlight f = std::move(it->second);
  in_flight_.erase(it);
  --in_flight_count_[f.entry.target];
  const auto* ack = std::get_if<ReplicaPutReply>(&reply.body);
  if (ack == nullptr || !ack->status.ok()) return;  // retried on a later pass
  auto removed = hints_->RemoveDelivered(f.entry);
  if (removed.ok() && *removed) ++delivered_;
}

}  // namespace ringkv
