#include "rpc/peer_rpc.h"

#include <algorithm>

#include "proto/codec.h"
#include "proto/frame.h"
#include "proto/request_limits.h"

namespace ringkv {

PeerRpc::PeerRpc(NodeId self, uint64_t generation, Clock* clock, Scheduler* scheduler,
                 Transport* transport, Random* random, MetricsRegistry* metrics,
                 uint32_t default_timeout_ms)
    : self_(std::move(self)),
      generation_(generation),
      clock_(clock),
      scheduler_(scheduler),
      transport_(transport),
      default_timeout_ms_(default_timeout_ms),
      next_id_((random->Next() >> 1) + 1),
      handlers_(std::variant_size_v<MessageBody>),
      listeners_(std::variant_size_v<MessageBody>),
      late_replies_metric_(metrics->AddCounter(
          "ringkv_rpc_late_replies_total",
          "Peer replies that matched no pending call (late, duplicated, or from another node "
          "than the callee), dropped.")),
      expired_metric_(metrics->AddCounter(
          "ringkv_rpc_expired_requests_total",
          "Peer requests refused because their deadline passed while they waited in queues "
          "or socket buffers.")),
      invalid_metric_(metrics->AddCounter(
          "ringkv_rpc_invalid_requests_total",
          "Peer requests refused because a field was out of bounds (docs/limits.md).")),
      unhandled_metric_(metrics->AddCounter("ringkv_rpc_unhandled_requests_total",
                                            "Peer requests of a type this node does not serve.")),
      timeouts_metric_(metrics->AddCounter("ringkv_rpc_call_timeouts_total",
                                           "Calls to peers that got no reply by their deadline.")),
      link_failures_metric_(metrics->AddCounter(
          "ringkv_rpc_call_link_failures_total",
          "Calls to peers failed before their deadline because no connection to the peer "
          "could be made.")) {
  transport_->SetLinkDownHandler([this](const NodeId& to) { OnLinkDown(to); });
  pending_gauge_ = metrics->AddGaugeCallback("ringkv_rpc_pending_calls",
                                             "Calls to peers waiting for a reply.", {},
                                             [this] { return static_cast<double>(pending_.size()); });
}

PeerRpc::~PeerRpc() {
  transport_->SetLinkDownHandler(nullptr);
  *alive_ = false;
  if (timer_) scheduler_->Cancel(timer_);
}

void PeerRpc::Send(const NodeId& to, uint64_t id, uint32_t timeout_ms, MessageBody&& body) {
  Message m;
  m.request_id = id;
  m.from = self_;
  m.timeout_ms = timeout_ms;
  m.body = std::move(body);
  m.sender_generation = generation_;
  m.sent_mono_us = clock_->MonoMicros();
  if (to == self_) {
    // To ourselves: on a later turn, as if it had travelled, and without
    // the transport (which then needs no way back into this node).
    scheduler_->RunAfter(0, [this, alive = alive_, m = std::move(m)]() mutable {
      if (*alive) OnMessage(std::move(m));
    });
    return;
  }
  std::string bytes = EncodeMessage(m);
  if (sent_observer_) sent_observer_(m.body, bytes.size() + kFrameHeaderSize);
  transport_->Send(to, std::move(bytes));
}

PeerRpc::CallId PeerRpc::Call(const NodeId& to, MessageBody body, int64_t deadline_us,
                              Done done, int64_t reply_grace_us) {
  const CallId id = next_id_++;
  const int64_t left = deadline_us - reply_grace_us - clock_->MonoMicros();
  // 0 on the wire means "use your default", so a spent budget travels as 1.
  const uint32_t timeout_ms = static_cast<uint32_t>(std::max<int64_t>(1, (left + 999) / 1000));
  pending_.emplace(id, Pending{to, deadline_us, std::move(done)});
  if (deadlines_.size() > 2 * pending_.size() + 64) {
    // Mostly settled calls: keep the heap the size of what is pending.
    deadlines_.clear();
    for (const auto& [call, p] : pending_) deadlines_.emplace_back(p.deadline_us, call);
    std::make_heap(deadlines_.begin(), deadlines_.end(), std::greater<>());
  } else {
    deadlines_.emplace_back(deadline_us, id);
    std::push_heap(deadlines_.begin(), deadlines_.end(), std::greater<>());
  }
  ++counters_.calls;
  ArmTimer();
  Send(to, id, timeout_ms, std::move(body));
  return id;
}

void PeerRpc::Cancel(CallId id) {
  pending_.erase(id);
}

void PeerRpc::Post(const NodeId& to, MessageBody body) { Send(to, 0, 0, std::move(body)); }

void PeerRpc::DropSettledDeadlines() {
  while (!deadlines_.empty() && !pending_.contains(deadlines_.front().second)) {
    std::pop_heap(deadlines_.begin(), deadlines_.end(), std::greater<>());
    deadlines_.pop_back();
  }
}

void PeerRpc::ArmTimer() {
  DropSettledDeadlines();
  if (deadlines_.empty()) return;
  const int64_t earliest = deadlines_.front().first;
  if (timer_ && timer_at_ <= earliest) return;
  if (timer_) scheduler_->Cancel(timer_);
  timer_at_ = earliest;
  timer_ = scheduler_->RunAfter(std::max<int64_t>(0, earliest - clock_->MonoMicros()), [this] {
    timer_ = 0;
    ExpireCalls();
  });
}

void PeerRpc::ExpireCalls() {
  const int64_t now = clock_->MonoMicros();
  while (!deadlines_.empty() && deadlines_.front().first <= now) {
    const CallId id = deadlines_.front().second;
    std::pop_heap(deadlines_.begin(), deadlines_.end(), std::greater<>());
    deadlines_.pop_back();
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;  // answered or cancelled
    Done done = std::move(it->second.done);
    pending_.erase(it);
    ++counters_.call_timeouts;
    timeouts_metric_->Increment();
    done(Status::Timeout("no reply by the deadline"));
  }
  ArmTimer();
}

void PeerRpc::OnLinkDown(const NodeId& to) {
  // The transport says so on every message it drops, so this runs once
  // per send to a peer in back-off: it only notes the peer. Calls are
  // numbered in order, so the ones pending now are those below next_id_.
  link_down_[to] = next_id_;
  if (link_down_scheduled_) return;
  link_down_scheduled_ = true;
  // Not at once: the transport may be telling us from inside a Call.
  scheduler_->RunAfter(0, [this, alive = alive_] {
    if (*alive) FailCallsOnDownLinks();
  });
}

void PeerRpc::FailCallsOnDownLinks() {
  link_down_scheduled_ = false;
  std::map<NodeId, CallId> down = std::move(link_down_);
  link_down_.clear();
  std::vector<CallId> doomed;
  for (const auto& [id, call] : pending_) {
    auto it = down.find(call.to);
    if (it != down.end() && id < it->second) doomed.push_back(id);
  }
  // In the order they were made, whatever the hash map's order.
  std::sort(doomed.begin(), doomed.end());
  for (CallId id : doomed) {
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;  // settled by an earlier one's callback
    Done done = std::move(it->second.done);
    const NodeId to = it->second.to;
    pending_.erase(it);
    ++counters_.link_failures;
    link_failures_metric_->Increment();
    done(Status::Unavailable("no connection to " + to));
  }
}

int64_t PeerRpc::Waited(const Message& message, int64_t now) {
  // Older nodes do not stamp their messages: their time on the way is unknown.
  if (message.sender_generation == 0) return 0;
  return ages_.Observe(message.from, message.sender_generation, message.sent_mono_us, now);
}

void PeerRpc::OnMessage(Message&& message) {
  if (message.from.empty()) return;  // not a node's message
  // Every stamped message teaches the peer's clock offset, replies and
  // one-way messages included; only a request's deadline uses the result.
  const int64_t now = clock_->MonoMicros();
  const int64_t waited = Waited(message, now);
  if (IsReply(message.body)) {
    OnReply(message);
  } else if (IsOneWay(message.body)) {
    auto& listener = listeners_[message.body.index()];
    if (listener) listener(message.from, message.body);
  } else {
    OnRequest(message, now, waited);
  }
}

void PeerRpc::OnReply(Message& message) {
  auto it = pending_.find(message.request_id);
  // A reply from another node than the call went to answers nothing of ours.
  if (it == pending_.end() || it->second.to != message.from) {
    ++counters_.late_replies;
    late_replies_metric_->Increment();
    return;
  }
  Done done = std::move(it->second.done);
  pending_.erase(it);
  if (auto* error = std::get_if<ErrorReply>(&message.body)) {
    done(error->status.ok() ? Status::Internal("error reply without a status") : error->status);
  } else {
    done(std::move(message.body));
  }
}

void PeerRpc::OnRequest(Message& message, int64_t now, int64_t waited) {
  const uint32_t ms = message.timeout_ms ? message.timeout_ms : default_timeout_ms_;
  const int64_t deadline = now + int64_t{ms} * 1000 - waited;
  const NodeId from = message.from;
  const uint64_t id = message.request_id;
  if (deadline <= now) {
    // Its sender stopped waiting: starting it now could only apply a write
    // out of order (a forward replayed after a newer write was acknowledged).
    ++counters_.expired_requests;
    expired_metric_->Increment();
    Send(from, id, 0, ErrorReply{Status::Timeout("request expired before it was read")});
    return;
  }
  if (Status invalid = ValidateRequest(message.body); !invalid.ok()) {
    // Refused here, whatever its type: no handler sees a field out of
    // bounds (docs/limits.md).
    ++counters_.invalid_requests;
    invalid_metric_->Increment();
    Send(from, id, 0, Refusal(message.body, std::move(invalid)));
    return;
  }
  auto& handler = handlers_[message.body.index()];
  if (!handler) {
    ++counters_.unhandled;
    unhandled_metric_->Increment();
    Send(from, id, 0, ErrorReply{Status::InvalidArgument("no handler for this request type")});
    return;
  }
  Respond respond = [this, alive = alive_, from, id](MessageBody reply) {
    if (*alive) Send(from, id, 0, std::move(reply));
  };
  handler(Request{from, id, deadline}, message.body, std::move(respond));
}

}  // namespace ringkv
