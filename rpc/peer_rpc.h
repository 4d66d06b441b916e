// PeerRpc: every message between nodes goes through here.
//
// One component owns what each protocol module used to redo on its own:
// request ids, the pending calls with their deadlines, routing a reply to
// its call, and dispatching a request to the handler registered for its
// type. Coordinator, replica service, hinted handoff and gossip (and later
// anti-entropy and partition transfers) register handlers and make calls
// here; none of them sees ids or encodes bytes. It talks to the world only
// through Transport, Clock and Scheduler, so the simulator runs it as is.
//
// - A message is a reply or a request by its type (proto/messages.h
//   IsReply), never by who sent it. A reply that matches no pending call
//   (late, duplicated, or from a node the call did not go to) is dropped
//   and counted.
// - Every request carries the time its sender still waits; the time it
//   spent in queues and socket buffers is deducted (proto/message_age.h),
//   and one that expired on the way is answered `timeout` without reaching
//   its handler.
// - Calls to a peer the transport cannot connect to (Transport's link-down
//   notice) fail with Unavailable on the next turn instead of at their
//   deadline: the caller's fallback and hint need not wait.
// - One-way messages (gossip) have listeners instead of handlers: no id,
//   no reply, no deadline.
//
// Single-threaded, on the node's loop. Callbacks may call back into the
// PeerRpc (make calls, cancel, reply).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/random.h"
#include "common/scheduler.h"
#include "common/status.h"
#include "common/transport.h"
#include "proto/message_age.h"
#include "proto/messages.h"

namespace ringkv {

class PeerRpc {
 public:
  using CallId = uint64_t;
  // The answer to a call: the reply's body, the Status of an ErrorReply, or
  // Timeout when nothing came by the deadline.
  using Done = std::function<void(Result<MessageBody>)>;
  // Answers a request; call it at most once. Never calling it is allowed:
  // the caller then times out.
  using Respond = std::function<void(MessageBody)>;

  // A request as its handler sees it.
  struct Request {
    NodeId from;
    uint64_t id = 0;
    // Local monotonic deadline, the time the request already waited deducted.
    int64_t deadline_us = 0;
  };

  // The layer's figures, also in the node's registry as ringkv_rpc_*
  // (docs/metrics.md).
  struct Counters {
    uint64_t calls = 0;
    uint64_t call_timeouts = 0;
    uint64_t late_replies = 0;      // replies matching no pending call
    uint64_t expired_requests = 0;  // refused: their deadline passed on the way
    uint64_t unhandled = 0;         // requests of a type nobody serves
    uint64_t invalid_requests = 0;  // refused: a field out of bounds
    uint64_t link_failures = 0;     // calls failed early: no connection to the callee
  };

  // All pointers must outlive the PeerRpc. `generation` is this process's
  // (it must grow across restarts of the node). A request that carries no
  // timeout gets `default_timeout_ms`.
  PeerRpc(NodeId self, uint64_t generation, Clock* clock, Scheduler* scheduler,
          Transport* transport, Random* random, MetricsRegistry* metrics,
          uint32_t default_timeout_ms = 5000);
  ~PeerRpc();
  PeerRpc(const PeerRpc&) = delete;
  PeerRpc& operator=(const PeerRpc&) = delete;

  // Registers the handler of request type T, replacing any earlier one.
  template <typename T>
  void Serve(std::function<void(const Request&, T&, Respond)> handler) {
    handlers_[Index<T>()] = [h = std::move(handler)](const Request& r, MessageBody& body,
                                                     Respond respond) {
      h(r, std::get<T>(body), std::move(respond));
    };
  }
  // Registers the listener of one-way message type T.
  template <typename T>
  void Listen(std::function<void(const NodeId& from, T&)> listener) {
    listeners_[Index<T>()] = [l = std::move(listener)](const NodeId& from, MessageBody& body) {
      l(from, std::get<T>(body));
    };
  }

  // Sends the request `body` to `to`. `done` is called exactly once, on the
  // loop and never from inside Call, unless Cancel comes first. The callee
  // is told a deadline `reply_grace_us` earlier than ours, so that its
  // answer, even a refusal, can still arrive in time.
  CallId Call(const NodeId& to, MessageBody body, int64_t deadline_us, Done done,
              int64_t reply_grace_us = 0);
  // Forgets a pending call: its `done` is never called. Unknown ids are a no-op.
  void Cancel(CallId id);
  // Sends a one-way message.
  void Post(const NodeId& to, MessageBody body);

  // Told the body and frame size (header included) of every message sent to
  // another node, requests, replies and one-way alike, so a protocol can
  // count its own bytes (anti-entropy's). One observer; null clears it.
  using SentObserver = std::function<void(const MessageBody&, size_t frame_bytes)>;
  void set_sent_observer(SentObserver observer) { sent_observer_ = std::move(observer); }

  // Everything the Transport delivers to this node.
  void OnMessage(Message&& message);

  const NodeId& self() const { return self_; }
  uint64_t generation() const { return generation_; }
  const Counters& counters() const { return counters_; }
  size_t pending() const { return pending_.size(); }

 private:
  template <typename T>
  static constexpr size_t Index() {
    return MessageBody(std::in_place_type<T>).index();
  }
  struct Pending {
    NodeId to;
    int64_t deadline_us;
    Done done;
  };

  // Bodies are passed along by reference down to the encoder: a message
  // body (objects, siblings) is not cheap to move.
  void Send(const NodeId& to, uint64_t id, uint32_t timeout_ms, MessageBody&& body);
  // How long `message` waited on its way here (proto/message_age.h).
  int64_t Waited(const Message& message, int64_t now);
  void OnReply(Message& message);
  void OnRequest(Message& message, int64_t now, int64_t waited);
  // Drops deadlines of calls already answered or cancelled from the top.
  void DropSettledDeadlines();
  void ArmTimer();
  void ExpireCalls();
  // Fails, on the next turn, the calls to `to` pending now.
  void OnLinkDown(const NodeId& to);
  void FailCallsOnDownLinks();

  NodeId self_;
  uint64_t generation_;
  Clock* clock_;
  Scheduler* scheduler_;
  Transport* transport_;
  uint32_t default_timeout_ms_;
  MessageAge ages_;
  // Starts at a random point: a restarted node counting from 1 again could
  // match a late reply meant for its previous life to a new call.
  uint64_t next_id_;
  std::unordered_map<CallId, Pending> pending_;
  // Min-heap of (deadline, call). An answered or cancelled call leaves its
  // entry behind (removing it from the middle would cost a tree node per
  // call); entries are dropped when they reach the top, and the heap is
  // rebuilt from pending_ when settled ones outnumber the live ones.
  using Deadline = std::pair<int64_t, CallId>;
  std::vector<Deadline> deadlines_;
  // Peers the transport could not reach since the last pass of
  // FailCallsOnDownLinks, each with the first call id made after the news:
  // the calls to fail are those to the peer numbered below it.
  std::map<NodeId, CallId> link_down_;
  bool link_down_scheduled_ = false;
  // One scheduler timer, for the earliest deadline: no timer per call.
  TimerId timer_ = 0;
  int64_t timer_at_ = 0;
  std::vector<std::function<void(const Request&, MessageBody&, Respond)>> handlers_;
  std::vector<std::function<void(const NodeId&, MessageBody&)>> listeners_;
  Counters counters_;
  SentObserver sent_observer_;
  Counter* late_replies_metric_;
  Counter* expired_metric_;
  Counter* invalid_metric_;
  Counter* unhandled_metric_;
  Counter* timeouts_metric_;
  Counter* link_failures_metric_;
  MetricsRegistry::CallbackHandle pending_gauge_;
  // Replies may be sent after the PeerRpc is gone (a handler answering
  // late); they check this first.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ringkv
