#include "replication/coordinator.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "causality/object_limits.h"
#include "common/hash.h"
#include "proto/codec.h"
#include "replication/admission.h"
#include "replication/quorum.h"

namespace ringkv {
namespace {

// A forwarded put's coordinator is given a little less time than the
// forwarder waits, so its answer (even "unavailable") arrives before the
// forwarder moves on to the next primary.
constexpr int64_t kForwardGraceUs = 50'000;

// "; believed down: n3, n4" when replicas were not even asked, so that an
// unavailable answer says why fewer replicas answered than exist.
std::string DownNote(const std::vector<NodeId>& down) {
  if (down.empty()) return "";
  std::string note = "; believed down: ";
  for (size_t i = 0; i < down.size(); ++i) note += (i ? ", " : "") + down[i];
  return note;
}

// Answers a get or put op that cannot meet its quorum, once. `when` says
// whether the deadline passed.
template <typename Reply, typename Op>
void AnswerUnavailable(Op& op, std::string_view when) {
  if (op.responded) return;
  op.responded = true;
  Reply reply;
  reply.status = Status::Unavailable(op.quorum.Shortfall() + std::string(when) + DownNote(op.down));
  op.done(std::move(reply));
}

constexpr std::string_view kAtDeadline = " before the deadline";

bool TooLargeToSend(const Object& object) { return ObjectSize(object) > kMaxMergedObjectBytes; }

}  // namespace

struct Coordinator::GetOp {
  GetRequest request;
  uint32_t partition = 0;
  std::vector<NodeId> replicas;
  QuorumTracker quorum;
  int64_t deadline_us = 0;
  GetCallback done;
  struct Answer {
    bool answered = false;
    bool ok = false;
    bool found = false;
    Object object;
  };
  std::vector<Answer> answers;
  std::vector<PeerRpc::CallId> calls;
  std::vector<NodeId> down;  // replicas skipped as believed down
  TimerId timer = 0;
  bool responded = false;
  bool finished = false;

  GetOp(uint32_t r, uint32_t pr) : quorum(r, pr) {}
};

struct Coordinator::PutOp {
  // Where the new object goes: a primary, or a fallback standing in for one.
  struct Target {
    NodeId node;
    NodeId hint_for;  // empty for a primary
    bool answered = false;
    bool acked = false;
  };

  PutRequest request;
  VersionVector context;
  uint32_t partition = 0;
  std::vector<NodeId> primaries;
  std::vector<NodeId> fallbacks;  // in preference order; each used at most once
  size_t next_fallback = 0;
  bool self_is_primary = false;
  // While the partition moves (docs/ring-changes.md): a primary streaming
  // it and its receiver count as one replica, acknowledged when both are.
  std::vector<Handover> handovers;
  std::vector<Target> targets;
  QuorumTracker quorum;
  int64_t deadline_us = 0;
  PutCallback done;
  Object object;
  std::vector<PeerRpc::CallId> calls;
  // Primaries believed down and left without a stand-in, named in an
  // Unavailable answer.
  std::vector<NodeId> down;
  std::vector<NodeId> hinted;  // primaries whose hint this node already holds
  // The midway timer (stand-ins, early hints), then the deadline's.
  TimerId timer = 0;
  bool responded = false;
  bool finished = false;

  PutOp(uint32_t w, uint32_t pw) : quorum(w, pw) {}
};

struct Coordinator::ForwardOp {
  PutRequest request;
  std::vector<NodeId> targets;
  size_t next = 0;
  int64_t deadline_us = 0;
  PutCallback done;
  // A conditional put this primary handed to the key's owner: coordinated
  // here after all when no other primary answers in time.
  std::shared_ptr<PutOp> local;
  PeerRpc::CallId current = 0;
  bool finished = false;
};

Coordinator::Coordinator(const ServiceOptions* options, const Membership* membership,
                         ServiceEnv env,
                         PeerRpc* rpc, Replica* replica, HintStore* hints,
                         const Liveness* liveness)
    : options_(options),
      membership_(membership),
      env_(env),
      rpc_(rpc),
      replica_(replica),
      hints_(hints),
      liveness_(liveness),
      read_repairs_(env.metrics->AddCounter(
          "ringkv_read_repairs_total",
          "Replicas that answered a read with less than the merged object and were sent it.")) {}

// An op's timers may outlive the coordinator in the scheduler; they check
// `alive_` first. Its calls die with the PeerRpc, which outlives it.
Coordinator::~Coordinator() { *alive_ = false; }

void Coordinator::Forget(const std::vector<PeerRpc::CallId>& calls) {
  for (PeerRpc::CallId id : calls) rpc_->Cancel(id);
}

namespace {

// Whether a call's outcome is no answer to `op`: the op is over, or the call
// ran out of time at the op's own deadline, which the op's timer answers.
template <typename Op>
bool Moot(const Op& op, const Result<MessageBody>& r, int64_t now) {
  return op.finished || (!r.ok() && r.status().IsTimeout() && now >= op.deadline_us);
}

// The status a replica answered with: its reply's, or the call's failure.
template <typename Reply>
Status AnswerStatus(const Result<MessageBody>& r, const NodeId& from) {
  if (!r.ok()) return r.status();
  if (const auto* reply = std::get_if<Reply>(&*r)) return reply->status;
  return Status::Internal("unexpected reply type from " + from);
}

}  // namespace

// ---------------------------------------------------------------- get

void Coordinator::Get(const GetRequest& request, int64_t deadline_us, GetCallback done) {
  GetReply reply;
  const BucketProps& props = options_->buckets.Get(request.bucket);
  auto r = ResolveQuorum(request.r, props.r, props.n, "r");
  auto pr = ResolveQuorum(request.pr, 0, props.n, "pr");
  if (!r.ok()) reply.status = r.status();
  if (reply.status.ok() && !pr.ok()) reply.status = pr.status();
  if (!reply.status.ok()) {
    done(std::move(reply));
    return;
  }
  uint64_t hash = KeyHash(request.bucket, request.key);
  auto op = std::make_shared<GetOp>(*r, *pr);
  op->request = request;
  const Ring& ring = membership_->ring();
  op->partition = ring.PartitionOf(hash);
  op->replicas = ring.PrimariesFor(hash, props.n);
  op->deadline_us = deadline_us;
  op->done = std::move(done);
  op->answers.resize(op->replicas.size());
  StartGet(op);
}

void Coordinator::StartGet(const std::shared_ptr<GetOp>& op) {
  for (size_t i = 0; i < op->replicas.size(); ++i) op->quorum.Expect(true);
  for (size_t i = 0; i < op->replicas.size() && !op->finished; ++i) {
    if (op->replicas[i] == options_->self) {
      auto local = replica_->Read(op->partition, op->request.bucket, op->request.key);
      if (!local.ok()) {
        OnGetAnswer(op, i, local.status(), false, {});
      } else {
        bool found = local->has_value();
        OnGetAnswer(op, i, Status::OK(), found, found ? std::move(**local) : Object{});
      }
      continue;
    }
    if (!liveness_->IsUp(op->replicas[i])) {
      op->down.push_back(op->replicas[i]);
      OnGetAnswer(op, i, Status::Unavailable(op->replicas[i] + " is down"), false, {});
      continue;
    }
    const NodeId& to = op->replicas[i];
    op->calls.push_back(rpc_->Call(
        to, ReplicaGetRequest{op->request.bucket, op->request.key}, op->deadline_us,
        [this, op, i, to](Result<MessageBody> r) {
          if (Moot(*op, r, env_.clock->MonoMicros())) return;
          Status st = AnswerStatus<ReplicaGetReply>(r, to);
          if (!st.ok()) return OnGetAnswer(op, i, st, false, {});
          auto& reply = std::get<ReplicaGetReply>(*r);
          OnGetAnswer(op, i, st, reply.found, std::move(reply.object));
        }));
  }
  // Armed last: a get answered entirely by the local replica (N=1) never
  // needs a timer.
  if (op->finished) return;
  int64_t delay = std::max<int64_t>(0, op->deadline_us - env_.clock->MonoMicros());
  op->timer = env_.scheduler->RunAfter(delay, [this, op, alive = alive_] {
    if (!*alive) return;
    op->timer = 0;
    if (op->finished) return;
    AnswerUnavailable<GetReply>(*op, kAtDeadline);
    ReadRepair(*op);
    Forget(op->calls);
    op->finished = true;
  });
}

void Coordinator::OnGetAnswer(const std::shared_ptr<GetOp>& op, size_t replica,
                              const Status& status, bool found, Object object) {
  if (op->finished || op->answers[replica].answered) return;
  auto& a = op->answers[replica];
  a.answered = true;
  a.ok = status.ok();
  a.found = found && a.ok;
  a.object = std::move(object);
  op->quorum.Answered(a.ok, /*primary=*/true);
  MaybeFinishGet(op);
}

std::optional<Object> Coordinator::Merged(const GetOp& op) const {
  const Resolver& resolver = options_->buckets.ResolverFor(op.request.bucket);
  std::optional<Object> merged;
  for (const auto& a : op.answers) {
    if (!a.found) continue;
    merged = merged ? resolver.Merge(*merged, a.object) : resolver.Normalize(a.object);
  }
  return merged;
}

void Coordinator::MaybeFinishGet(const std::shared_ptr<GetOp>& op) {
  if (!op->responded && op->quorum.Met()) {
    op->responded = true;
    GetReply reply;
    if (std::optional<Object> merged = Merged(*op); merged && TooLargeToSend(*merged)) {
      // Replicas that took writes apart (a partition) hold copies whose
      // merge no frame can carry.
      reply.status = Status::ObjectTooLarge(
          op->request.bucket + "/" + op->request.key + " holds " +
          std::to_string(ObjectSize(*merged)) + " bytes of siblings, more than a reply carries");
    } else if (merged) {
      reply.found = true;
      reply.object =
          options_->buckets.ResolverFor(op->request.bucket).Answer(std::move(*merged));
    }
    op->done(std::move(reply));
  } else if (op->quorum.Impossible()) {
    AnswerUnavailable<GetReply>(*op, "");
  }
  if (op->quorum.AllAnswered() && !op->finished) {
    if (op->timer) env_.scheduler->Cancel(op->timer);
    op->timer = 0;
    ReadRepair(*op);
    Forget(op->calls);
    op->finished = true;
  }
}

void Coordinator::ReadRepair(const GetOp& op) {
  std::optional<Object> found = Merged(op);
  // Replicas refuse a merge that large (AdmitMergedSize), and no frame
  // would carry it.
  if (!found || TooLargeToSend(*found)) return;
  const Object& merged = *found;
  // Repairs often leave at the get's deadline; they get a deadline of their
  // own, or every replica would refuse them as expired.
  const int64_t repair_deadline =
      env_.clock->MonoMicros() + int64_t{options_->default_timeout_ms} * 1000;
  for (size_t i = 0; i < op.answers.size(); ++i) {
    const auto& a = op.answers[i];
    // Only replicas that answered are repaired: one that did not may be
    // down, and hinted handoff, not read repair, covers it.
    if (!a.ok || (a.found && a.object == merged)) continue;
    read_repairs_->Increment();
    if (op.replicas[i] == options_->self) {
      replica_->Merge(op.partition, op.request.bucket, op.request.key, merged,
                      [](const Status&) {});
    } else {
      // Nothing waits on the outcome: a replica the repair misses is
      // repaired by the next read or by hinted handoff.
      rpc_->Call(op.replicas[i], ReplicaPutRequest{op.request.bucket, op.request.key, merged, {}},
                 repair_deadline, [](Result<MessageBody>) {});
    }
  }
}

// ---------------------------------------------------------------- put

void Coordinator::Put(PutRequest request, int64_t deadline_us, PutCallback done) {
  PutReply reply;
  if (request.write_id.empty()) {
    request.timestamp_us = env_.clock->WallMicros();
    // Zero is "no id": never minted.
    do {
      request.write_id = WriteId{env_.random->Next(), env_.random->Next()};
    } while (request.write_id.empty());
  } else {
    // Minted by the node the write entered, which forwarded it here.
    reply.status = AdmitTimestamp(request.timestamp_us, env_.clock->WallMicros());
  }
  const BucketProps& props = options_->buckets.Get(request.bucket);
  auto w = ResolveQuorum(request.w, props.w, props.n, "w");
  auto pw = ResolveQuorum(request.pw, 0, props.n, "pw");
  auto context = AdmitContext(request.context, request.bucket, request.key);
  if (reply.status.ok() && !w.ok()) reply.status = w.status();
  if (reply.status.ok() && !pw.ok()) reply.status = pw.status();
  if (reply.status.ok() && !context.ok()) reply.status = context.status();
  if (!reply.status.ok()) {
    done(std::move(reply));
    return;
  }
  uint64_t hash = KeyHash(request.bucket, request.key);
  const Ring& ring = membership_->ring();
  Placement placement = ring.PlacementFor(hash, props.n);
  std::vector<NodeId>& primaries = placement.primaries;
  bool self_is_primary =
      std::find(primaries.begin(), primaries.end(), options_->self) != primaries.end();

  // A conditional put is checked where every other one of its key is: on
  // the copy of the key's owner.
  const bool hand_to_owner =
      request.if_match && !request.forwarded && OwnerOf(primaries) != options_->self;
  if (!self_is_primary && !request.forwarded) {
    auto op = std::make_shared<ForwardOp>();
    op->request = std::move(request);
    op->request.forwarded = true;
    op->targets = ForwardTargets(primaries);
    op->deadline_us = deadline_us;
    op->done = std::move(done);
    ForwardNext(op);
    return;
  }

  auto op = std::make_shared<PutOp>(*w, *pw);
  op->request = std::move(request);
  op->context = std::move(context).value();
  op->partition = ring.PartitionOf(hash);
  for (const Handover& h : ring.handovers()) {
    if (h.partition == op->partition) op->handovers.push_back(h);
  }
  op->primaries = std::move(primaries);
  op->fallbacks = std::move(placement.fallbacks);
  op->self_is_primary = self_is_primary;
  op->deadline_us = deadline_us;
  op->done = std::move(done);
  if (hand_to_owner) return HandToOwner(op);
  CoordinatePut(op);
}

const NodeId& Coordinator::OwnerOf(const std::vector<NodeId>& primaries) const {
  for (const NodeId& p : primaries) {
    if (p == options_->self || liveness_->IsUp(p)) return p;
  }
  return options_->self;
}

std::vector<NodeId> Coordinator::ForwardTargets(const std::vector<NodeId>& primaries) const {
  std::vector<NodeId> targets;
  for (const NodeId& p : primaries) {
    if (p != options_->self) targets.push_back(p);
  }
  // Primaries believed up first, in preference order (the owner first); the
  // others only as a last resort.
  std::stable_partition(targets.begin(), targets.end(),
                        [this](const NodeId& n) { return liveness_->IsUp(n); });
  return targets;
}

void Coordinator::CoordinatePut(const std::shared_ptr<PutOp>& op) {
  const PutRequest& req = op->request;
  // The copies leave once this node's is in storage: a copy holding a dot
  // this node then failed to store would let it mint that dot again.
  replica_->Coordinate(op->partition, req.bucket, req.key, op->context, req.tombstone,
                       req.tombstone ? std::string() : req.value, req.timestamp_us,
                       req.write_id,
                       [this, op, alive = alive_](Result<Object> stored) {
                         if (*alive) SendCopies(op, std::move(stored));
                       },
                       CoordinationRules{.if_match = req.if_match});
}

void Coordinator::SendCopies(const std::shared_ptr<PutOp>& op, Result<Object> stored) {
  if (!stored.ok()) {
    PutReply reply;
    reply.status = stored.status();
    op->done(std::move(reply));
    return;
  }
  op->object = std::move(stored).value();
  if (const NodeId* receiver = op->self_is_primary ? PartnerOf(*op, options_->self) : nullptr) {
    // This node's copy is written; the pair's ack is its receiver's.
    op->targets.push_back({*receiver, {}});
    op->quorum.Expect(true);
  } else {
    op->quorum.Expect(op->self_is_primary);
    op->quorum.Succeeded(op->self_is_primary);
  }
  for (const NodeId& p : op->primaries) {
    if (p == options_->self) continue;
    if (liveness_->IsUp(p)) {
      op->targets.push_back({p, {}});
      op->quorum.Expect(true);
    } else if (!AddFallback(op, p)) {
      op->down.push_back(p);
      LeaveHint(op, p);
    }
  }
  for (size_t i = 0; i < op->targets.size(); ++i) SendPut(op, i);
  MaybeFinishPut(op);
  // Armed last: a put that needed no other replica (N=1) is already done.
  if (op->finished) return;
  const int64_t delay = std::max<int64_t>(0, op->deadline_us - env_.clock->MonoMicros());
  // One timer at a time, the midway one first: nearly every put is done
  // before it, and a timer is a heap object and a libevent event each.
  if (delay == 0) return ArmPutDeadline(op, 0);
  op->timer = env_.scheduler->RunAfter(delay / 2, [this, op, alive = alive_] {
    if (!*alive) return;
    op->timer = 0;
    if (op->finished) return;
    OnMidway(op);
    if (!op->finished) {
      ArmPutDeadline(op, std::max<int64_t>(0, op->deadline_us - env_.clock->MonoMicros()));
    }
  });
}

void Coordinator::ArmPutDeadline(const std::shared_ptr<PutOp>& op, int64_t delay) {
  op->timer = env_.scheduler->RunAfter(delay, [this, op, alive = alive_] {
    if (!*alive) return;
    op->timer = 0;
    if (op->finished) return;
    AnswerUnavailable<PutReply>(*op, kAtDeadline);
    FinishPut(op);
  });
}

const NodeId* Coordinator::PartnerOf(const PutOp& op, const NodeId& node) {
  for (const Handover& h : op.handovers) {
    if (h.from == node && h.to != node) return &h.to;
  }
  return nullptr;
}

void Coordinator::SendPut(const std::shared_ptr<PutOp>& op, size_t target) {
  const PutOp::Target& t = op->targets[target];
  if (const NodeId* receiver = t.hint_for.empty() ? PartnerOf(*op, t.node) : nullptr) {
    // Both copies of the pair, one answer: the first failure, else ok.
    struct Pair {
      int waiting = 2;
      Status status;
    };
    auto pair = std::make_shared<Pair>();
    for (const NodeId& to : {t.node, *receiver}) {
      op->calls.push_back(rpc_->Call(
          to, ReplicaPutRequest{op->request.bucket, op->request.key, op->object, {}},
          op->deadline_us, [this, op, target, pair, to](Result<MessageBody> r) {
            if (Moot(*op, r, env_.clock->MonoMicros())) return;
            Status st = AnswerStatus<ReplicaPutReply>(r, to);
            if (pair->status.ok()) pair->status = st;
            if (--pair->waiting == 0) OnPutAck(op, target, pair->status);
          }));
    }
    return;
  }
  op->calls.push_back(rpc_->Call(
      t.node, ReplicaPutRequest{op->request.bucket, op->request.key, op->object, t.hint_for},
      op->deadline_us, [this, op, target, to = t.node](Result<MessageBody> r) {
        if (Moot(*op, r, env_.clock->MonoMicros())) return;
        OnPutAck(op, target, AnswerStatus<ReplicaPutReply>(r, to));
      }));
}

bool Coordinator::AddFallback(const std::shared_ptr<PutOp>& op, const NodeId& primary) {
  while (op->next_fallback < op->fallbacks.size()) {
    const NodeId& f = op->fallbacks[op->next_fallback++];
    if (f == options_->self || !liveness_->IsUp(f)) continue;
    op->targets.push_back({f, primary});
    op->quorum.Expect(false);
    return true;
  }
  return false;
}

void Coordinator::OnMidway(const std::shared_ptr<PutOp>& op) {
  if (!op->quorum.Met()) RecruitFallbacks(op);
  // A primary still silent with no stand-in gets its hint now, not at the
  // deadline: a coordinator that dies in between has then left it (the
  // simulator found writes missing on 3 nodes at N=3 that way). An ack
  // from the primary later does not remove it; delivering it then is a
  // harmless causal merge.
  for (const PutOp::Target& t : op->targets) {
    if (!t.hint_for.empty() || t.answered) continue;
    if (!StandInAsked(*op, t.node) && !Covered(*op, t.node)) LeaveHint(op, t.node);
  }
}

bool Coordinator::StandInAsked(const PutOp& op, const NodeId& primary) {
  return std::any_of(op.targets.begin(), op.targets.end(), [&](const PutOp::Target& t) {
    return t.hint_for == primary && !t.answered;
  });
}

bool Coordinator::Covered(const PutOp& op, const NodeId& primary) {
  return std::any_of(op.targets.begin(), op.targets.end(), [&](const PutOp::Target& t) {
    return t.acked && (t.node == primary ? t.hint_for.empty() : t.hint_for == primary);
  });
}

void Coordinator::LeaveHint(const std::shared_ptr<PutOp>& op, const NodeId& primary) {
  if (std::find(op->hinted.begin(), op->hinted.end(), primary) != op->hinted.end()) return;
  op->hinted.push_back(primary);
  // A failed hint write is counted by the store and shown in the node's
  // status (hint_write_failures); the put itself stands or falls on W.
  (void)hints_->Add(primary, op->partition, op->request.bucket, op->request.key, op->object);
}

void Coordinator::RecruitFallbacks(const std::shared_ptr<PutOp>& op) {
  size_t before = op->targets.size();
  for (size_t i = 0; i < before; ++i) {
    const PutOp::Target& t = op->targets[i];
    if (t.hint_for.empty() && !t.answered) {
      NodeId primary = t.node;
      if (AddFallback(op, primary)) SendPut(op, op->targets.size() - 1);
    }
  }
}

void Coordinator::OnPutAck(const std::shared_ptr<PutOp>& op, size_t target,
                           const Status& status) {
  if (op->finished) return;
  PutOp::Target& t = op->targets[target];
  t.answered = true;
  t.acked = status.ok();
  op->quorum.Answered(status.ok(), /*primary=*/t.hint_for.empty());
  if (!status.ok()) {
    // The copy `t` was to hold is known to be missing now (a refusal, or no
    // connection): a stand-in is asked at once while W still needs one,
    // and the write waits for that primary here at once, so a coordinator
    // dying before the deadline leaves no window but the one between the
    // failure and this line.
    const NodeId primary = t.hint_for.empty() ? t.node : t.hint_for;
    if (!Covered(*op, primary)) {
      if (!op->quorum.Met() && !StandInAsked(*op, primary) && AddFallback(op, primary)) {
        SendPut(op, op->targets.size() - 1);
      }
      LeaveHint(op, primary);
    }
  }
  MaybeFinishPut(op);
}

void Coordinator::MaybeFinishPut(const std::shared_ptr<PutOp>& op) {
  if (!op->responded && op->quorum.Met()) {
    op->responded = true;
    PutReply reply;
    reply.object = op->object;
    op->done(std::move(reply));
  } else if (op->quorum.Impossible()) {
    AnswerUnavailable<PutReply>(*op, "");
  }
  if (op->quorum.AllAnswered() && !op->finished) FinishPut(op);
}

void Coordinator::FinishPut(const std::shared_ptr<PutOp>& op) {
  if (op->timer) env_.scheduler->Cancel(op->timer);
  op->timer = 0;
  Forget(op->calls);
  op->finished = true;
  // Every primary that neither acknowledged nor had a fallback acknowledge
  // for it gets a hint here.
  for (const NodeId& p : op->primaries) {
    if (p != options_->self && !Covered(*op, p)) LeaveHint(op, p);
  }
}

// ---------------------------------------------------------------- forward

void Coordinator::HandToOwner(const std::shared_ptr<PutOp>& op) {
  auto forward = std::make_shared<ForwardOp>();
  forward->request = op->request;
  forward->request.forwarded = true;
  forward->targets = ForwardTargets(op->primaries);
  forward->deadline_us = op->deadline_us;
  forward->done = op->done;
  forward->local = op;
  ForwardNext(forward);
}

void Coordinator::ForwardNext(const std::shared_ptr<ForwardOp>& op) {
  int64_t now = env_.clock->MonoMicros();
  int64_t remaining = op->deadline_us - now;
  if (op->local != nullptr && op->next >= op->targets.size() && remaining > 0) {
    op->finished = true;
    return CoordinatePut(op->local);
  }
  if (op->next >= op->targets.size() || remaining <= 0) {
    op->finished = true;
    PutReply reply;
    reply.status = Status::Unavailable("no primary replica answered the forwarded put (tried " +
                                       std::to_string(op->next) + " of " +
                                       std::to_string(op->targets.size()) + ")");
    op->done(std::move(reply));
    return;
  }
  // Split what is left evenly over the primaries not yet tried, so one
  // stopped primary cannot use up the whole budget. The target is told a
  // deadline a little earlier than ours, so its answer (even "unavailable")
  // arrives before we move on to the next primary.
  // A put handed to the owner keeps a slice for coordinating it here.
  const int64_t shares = static_cast<int64_t>(op->targets.size() - op->next) +
                         (op->local != nullptr ? 1 : 0);
  int64_t slice = remaining / shares;
  int64_t grace = std::min(kForwardGraceUs, slice / 10);
  const NodeId& target = op->targets[op->next++];
  op->current = rpc_->Call(
      target, op->request, now + slice,
      [this, op](Result<MessageBody> r) { OnForwardAnswer(op, std::move(r)); }, grace);
}

void Coordinator::OnForwardAnswer(const std::shared_ptr<ForwardOp>& op,
                                  Result<MessageBody> answer) {
  op->current = 0;
  if (op->finished) return;
  if (answer.ok()) {
    if (auto* reply = std::get_if<PutReply>(&*answer)) {
      op->finished = true;
      op->done(std::move(*reply));
      return;
    }
  }
  // No answer in its slice, a refusal, or a reply of the wrong type: that
  // primary failed; the next one gets the same write.
  ForwardNext(op);
}

}  // namespace ringkv
