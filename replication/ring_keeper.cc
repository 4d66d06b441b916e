#include "replication/ring_keeper.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "replication/bucket_change.h"
#include "replication/replica.h"
#include "replication/ring_state_codec.h"
#include "storage/keys.h"
#include "storage/partition_fold.h"

namespace ringkv {
namespace {

constexpr std::string_view kMetaRingState = "ring_state";
// The partitions whose catch-up exchange this node still owes: a restart
// between a flip and the exchange must not forget it.
constexpr std::string_view kMetaCatchUp = "ring_catch_up";
// Refused gossiped states are counted always, logged at most this often.
constexpr int64_t kWarnEveryUs = 10'000'000;
// How often a claimant looks whether a majority gossips its new epoch.
constexpr int64_t kAwaitPollUs = 20'000;
// The longest a plan waits for its senders' sizes.
constexpr int64_t kPlanSizesMaxUs = 5'000'000;

Membership::Addresses AddressesOf(const RingState& state) {
  Membership::Addresses addresses;
  for (const StateMember& m : state.members) addresses[m.id] = m.address;
  return addresses;
}

// Partition numbers as uint32le each.
std::string EncodePartitions(const std::set<uint32_t>& partitions) {
  std::string out;
  for (uint32_t p : partitions) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((p >> (8 * i)) & 0xff));
  }
  return out;
}

Result<std::set<uint32_t>> DecodePartitions(std::string_view value, uint32_t partitions) {
  if (value.size() % 4 != 0) return Status::Corruption("ring_catch_up is not a list of uint32");
  std::set<uint32_t> out;
  for (size_t at = 0; at < value.size(); at += 4) {
    uint32_t p = 0;
    for (int i = 0; i < 4; ++i) p |= uint32_t{static_cast<uint8_t>(value[at + i])} << (8 * i);
    if (p >= partitions) {
      return Status::Corruption("ring_catch_up names partition " + std::to_string(p));
    }
    out.insert(p);
  }
  return out;
}

bool IsChange(const std::string& op) {
  return op == "join" || op == "leave" || op == "clear" || op == "plan" || op == "commit" ||
         op == "transfer-done" || op == "replace" || op == "force-remove" ||
         op == "force-replace" || op == "mark-down" || op == "limits" || op == "bucket";
}

// The changes an operator makes because `node` is dead.
bool ForDeadNode(const std::string& op) {
  return op == "force-remove" || op == "force-replace" || op == "mark-down";
}

}  // namespace

Result<std::optional<RingState>> RingKeeper::Load(Storage* storage) {
  std::string value;
  Status st = storage->Get(MetaKey(kMetaRingState), &value);
  if (st.IsNotFound()) return std::optional<RingState>();
  if (!st.ok()) return st;
  Result<RingState> state = DecodeRingState(value);
  if (!state.ok()) return Status::Corruption("persisted ring state: " + state.status().message());
  return std::optional<RingState>(std::move(state).value());
}

RingState RingKeeper::Choose(std::optional<RingState> persisted, RingState given) {
  if (persisted && persisted->epoch >= given.epoch) return std::move(*persisted);
  return given;
}

RingKeeper::RingKeeper(RingKeeperOptions options, RingState initial, Service* service,
                       Storage* storage, Clock* clock, Scheduler* scheduler,
                       MetricsRegistry* metrics)
    : options_(std::move(options)),
      state_(std::move(initial)),
      service_(service),
      storage_(storage),
      clock_(clock),
      scheduler_(scheduler),
      transfers_(std::make_unique<Transfers>(options_.transfers, service->options().self,
                                             &service->rpc(), &service->replica(), storage,
                                             clock, scheduler, metrics)),
      adopted_(metrics->AddCounter("ringkv_ring_states_adopted_total",
                                   "Ring states of a higher epoch this node adopted.")),
      refused_(metrics->AddCounter(
          "ringkv_ring_states_refused_total",
          "Gossiped ring states refused: undecodable, oversized, inconsistent or of "
          "another partition count.")),
      cleaned_objects_(metrics->AddCounter(
          "ringkv_transfer_cleaned_objects_total",
          "Objects deleted after a ring change because this node no longer replicates them.")),
      catch_up_failures_(metrics->AddCounter(
          "ringkv_ring_catch_up_failures_total",
          "Catch-up exchanges after a ring change that failed (a peer down or refusing, "
          "e.g. with anti-entropy off); each is tried again after a backoff.")) {
  catch_up_gauge_ = metrics->AddGaugeCallback(
      "ringkv_ring_catch_ups_owed",
      "Partitions this node received in a ring change whose catch-up exchange has not "
      "succeeded yet.",
      {}, [this] { return static_cast<double>(catch_up_.size()); });
  epoch_gauge_ = metrics->AddGaugeCallback("ringkv_ring_epoch", "This node's ring state epoch.",
                                           {}, [this] { return static_cast<double>(state_.epoch); });
  transfers_->SetOnSent([this](const Move& m) {
    to_report_.insert({m.partition, m.from, m.to});
    TellClaimant();
  });
}

RingKeeper::~RingKeeper() {
  *alive_ = false;
  if (tick_ != 0) scheduler_->Cancel(tick_);
  if (Gossiper* g = service_->mutable_gossiper()) g->SetOnRingState(nullptr);
}

Status RingKeeper::Start() {
  const std::string record = EncodeRingState(state_);
  std::string persisted;
  if (Status st = storage_->Get(MetaKey(kMetaRingState), &persisted);
      !st.ok() || persisted != record) {
    WriteBatch wb;
    wb.Put(MetaKey(kMetaRingState), record);
    RINGKV_RETURN_IF_ERROR(storage_->Write(wb, /*sync=*/true));
  }
  std::string owed;
  if (Status st = storage_->Get(MetaKey(kMetaCatchUp), &owed); st.ok()) {
    Result<std::set<uint32_t>> partitions = DecodePartitions(owed, state_.partitions);
    if (partitions.ok()) {
      catch_up_ = std::move(partitions).value();
    } else if (options_.warn) {
      // Only a shortcut is lost: periodic anti-entropy repairs the same.
      options_.warn("catch-up exchanges owed are unreadable, dropped: " +
                    partitions.status().ToString());
    }
  } else if (!st.IsNotFound()) {
    return st;
  }
  if (Gossiper* g = service_->mutable_gossiper()) {
    g->set_ring_state(record);
    g->SetOnRingState([this](const NodeId& from, const std::string& record) {
      OnGossipedState(from, record);
    });
  }
  // What this node holds of `partitions`, refused whole when one is not on
  // the ring.
  auto sizes_of = [this](const std::vector<uint32_t>& partitions) {
    for (uint32_t p : partitions) {
      if (p >= state_.partitions) {
        PartitionSizesReply reply;
        reply.status = Status::InvalidArgument("no partition " + std::to_string(p));
        return reply;
      }
    }
    return transfers_->Sizes(partitions);
  };
  PeerRpc& rpc = service_->rpc();
  rpc.Serve<RingAdminRequest>(
      [this](const PeerRpc::Request& r, RingAdminRequest& request, PeerRpc::Respond respond) {
        Handle(request, r.from, r.deadline_us, std::move(respond));
      });
  rpc.Serve<TransferBatch>(
      [this](const PeerRpc::Request& r, TransferBatch& batch, PeerRpc::Respond respond) {
        transfers_->OnBatch(r, batch, state_, std::move(respond));
      });
  rpc.Serve<PartitionSizesRequest>(
      [sizes_of](const PeerRpc::Request&, PartitionSizesRequest& request,
                 PeerRpc::Respond respond) { respond(sizes_of(request.partitions)); });
  Service::ClientHandler next = service_->client_handler();
  service_->SetClientHandler([this, next, sizes_of](MessageBody& body, int64_t deadline_us,
                                                    PeerRpc::Respond respond) {
    if (auto* request = std::get_if<RingAdminRequest>(&body)) {
      return Handle(*request, NodeId(), deadline_us, std::move(respond));
    }
    if (auto* sizes = std::get_if<PartitionSizesRequest>(&body)) {
      // An operator's (or a test's) look at what this node holds; every
      // partition when none is named.
      std::vector<uint32_t> partitions = sizes->partitions;
      if (partitions.empty()) {
        for (uint32_t p = 0; p < state_.partitions; ++p) partitions.push_back(p);
      }
      return respond(sizes_of(partitions));
    }
    if (next) return next(body, deadline_us, std::move(respond));
    respond(ErrorReply{Status::InvalidArgument(std::string("unsupported request ") +
                                               MessageName(body))});
  });
  transfers_->ApplyLimits(state_.limits);
  stable_since_us_ = clock_->MonoMicros();
  ScheduleTick();
  return Status::OK();
}

Result<bool> RingKeeper::Adopt(RingState next) {
  if (next.epoch <= state_.epoch) return false;
  RINGKV_RETURN_IF_ERROR(ValidateState(next));
  Result<Ring> ring = PlacementRing(next);
  if (!ring.ok()) return ring.status();
  const std::string record = EncodeRingState(next);
  // The change this node saw in flight is over: flipped (Flip keeps its
  // change epoch) or followed by another one. What it received is owed an
  // exchange, persisted with the state that ends the change.
  std::set<uint32_t> owed = catch_up_;
  if (state_.changing() && (!next.changing() || state_.change_epoch != next.change_epoch)) {
    for (const Move& m : state_.transfers) {
      if (m.to == service_->options().self) owed.insert(m.partition);
    }
  }
  if (state_.owners != next.owners) {
    // So is every partition this node replicates now and did not before:
    // after a forced change, which streams nothing, the exchange is how
    // its data comes at all.
    Result<Ring> before = PlacementRing(state_);
    const NodeId& self = service_->options().self;
    for (uint32_t p = 0; before.ok() && p < next.partitions; ++p) {
      if (ring->Replicates(p, next.max_n(), self) &&
          !before->Replicates(p, state_.max_n(), self)) {
        owed.insert(p);
      }
    }
  }
  WriteBatch wb;
  wb.Put(MetaKey(kMetaRingState), record);
  if (owed != catch_up_) wb.Put(MetaKey(kMetaCatchUp), EncodePartitions(owed));
  // Persisted before anyone acts on it: a restart comes back at this epoch.
  RINGKV_RETURN_IF_ERROR(storage_->Write(wb, /*sync=*/true));
  RingState previous = std::exchange(state_, std::move(next));
  catch_up_ = std::move(owed);
  adopted_->Increment();
  if (previous.change_epoch == state_.change_epoch && previous.transfers.size() ==
                                                          state_.transfers.size()) {
    for (size_t i = 0; i < state_.transfers.size(); ++i) {
      // A sender given a dead one's move: coordinators pair writes with
      // the new sender only once they have this epoch.
      if (previous.transfers[i].from != state_.transfers[i].from) handover_epoch_ = state_.epoch;
    }
  }
  if (previous.owners != state_.owners || previous.changing() != state_.changing()) {
    stable_since_us_ = clock_->MonoMicros();
  }
  transfers_->ApplyLimits(state_.limits);
  if (previous.buckets != state_.buckets && !state_.buckets.empty()) {
    service_->SetBuckets(state_.buckets);
    if (options_.info) {
      options_.info("ring epoch " + std::to_string(state_.epoch) + ": bucket properties changed");
    }
  }
  if (Gossiper* g = service_->mutable_gossiper()) g->set_ring_state(record);
  service_->membership().Publish(std::move(ring).value(), AddressesOf(state_));
  if (options_.info) {
    options_.info("ring epoch " + std::to_string(state_.epoch) + ": " +
                  std::to_string(state_.members.size()) + " members, " +
                  std::to_string(state_.transfers.size()) + " transfers in flight, " +
                  std::to_string(state_.staged.size()) + " staged changes");
  }
  return true;
}

void RingKeeper::OnGossipedState(const NodeId& from, const std::string& record) {
  Result<RingState> next = DecodeRingState(record);
  Status why = next.status();
  if (next.ok() && next->partitions != state_.partitions) {
    why = Status::InvalidArgument("it has " + std::to_string(next->partitions) +
                                  " partitions, this node " + std::to_string(state_.partitions));
  }
  if (why.ok()) {
    Result<bool> adopted = Adopt(std::move(next).value());
    if (adopted.ok()) return;
    why = adopted.status();
  }
  refused_->Increment();
  const int64_t now = clock_->MonoMicros();
  if (options_.warn && (last_warn_us_ == 0 || now - last_warn_us_ >= kWarnEveryUs)) {
    last_warn_us_ = now;
    options_.warn("ring state gossiped by " + from + " refused: " + why.ToString());
  }
}

std::optional<NodeId> RingKeeper::ClaimantFor(const RingAdminRequest& request) const {
  if (request.op != "mark-down") return Claimant(state_);
  // A dead claimant's mark-down is made by the member that is claimant
  // after it.
  RingState after = state_;
  for (StateMember& m : after.members) {
    if (m.id == request.node && m.status == MemberStatus::kValid) m.status = MemberStatus::kDown;
  }
  return Claimant(after);
}

Status RingKeeper::CanCommit(const RingAdminRequest& request) const {
  const NodeId& self = service_->options().self;
  const std::optional<NodeId> claimant = ClaimantFor(request);
  if (!claimant || *claimant != self) {
    return Status::Unavailable("this node is not the claimant (" + claimant.value_or("none") +
                               " is)");
  }
  size_t valid = 0, up = 0;
  for (const StateMember& m : state_.members) {
    if (m.status != MemberStatus::kValid) continue;
    ++valid;
    if (m.id == self || service_->liveness().IsUp(m.id)) ++up;
  }
  if (2 * up <= valid) {
    return Status::Unavailable("claimant " + self + " sees " + std::to_string(up) + " of " +
                               std::to_string(valid) +
                               " valid members up: a minority cannot change the ring");
  }
  // A claimant that restarted, or was cut off, may hold an old ring: it
  // changes nothing until gossip brought it the newest epoch a member has.
  if (const Gossiper* g = service_->gossiper()) {
    for (const auto& [member, epoch] : g->ring_epochs()) {
      if (epoch > state_.epoch && member != self && service_->liveness().IsUp(member)) {
        return Status::Unavailable("claimant " + self + " is at ring epoch " +
                                   std::to_string(state_.epoch) + ", " + member + " at " +
                                   std::to_string(epoch) + ": it catches up by gossip first");
      }
    }
  }
  return Status::OK();
}

void RingKeeper::Reply(PeerRpc::Respond& respond, Status status) {
  RingAdminReply reply;
  reply.status = std::move(status);
  reply.state = EncodeRingState(state_);
  respond(std::move(reply));
}

void RingKeeper::Handle(const RingAdminRequest& request, const NodeId& from_peer,
                        int64_t deadline_us, PeerRpc::Respond respond) {
  if (request.op == "ring") return Reply(respond, Status::OK());
  if (request.op == "transfers") {
    RingAdminReply reply;
    reply.state = EncodeRingState(state_);
    reply.transfers = EncodeTransferReport(Report());
    return respond(std::move(reply));
  }
  if (!IsChange(request.op)) {
    return Reply(respond, Status::InvalidArgument("unknown ring operation '" + request.op + "'"));
  }
  const std::optional<NodeId> claimant = ClaimantFor(request);
  if (claimant && *claimant == service_->options().self) {
    return Claim(request, deadline_us, std::move(respond));
  }
  if (!claimant || !from_peer.empty()) {
    // Forwarded once only: two nodes that each think the other claimant
    // must not bounce a request between them.
    return Reply(respond, Status::Unavailable("this node is not the claimant (" +
                                              claimant.value_or("none") + " is)"));
  }
  service_->rpc().Call(*claimant, request, deadline_us,
                       [respond, alive = alive_, claimant = *claimant](Result<MessageBody> r) {
                         if (r.ok()) return respond(std::move(*r));
                         RingAdminReply reply;
                         reply.status = Status::FromWire(static_cast<uint8_t>(r.status().code()),
                                                        "claimant " + claimant + ": " +
                                                            r.status().message());
                         respond(std::move(reply));
                       });
}

void RingKeeper::Claim(const RingAdminRequest& request, int64_t deadline_us,
                       PeerRpc::Respond respond) {
  if (Status st = CanCommit(request); !st.ok()) return Reply(respond, st);
  if (request.op == "plan") return Plan(deadline_us, std::move(respond));
  if (ForDeadNode(request.op) && state_.Find(request.node) == nullptr) {
    return Reply(respond, Status::NotFound("'" + request.node + "' is not a member"));
  }
  if (ForDeadNode(request.op) && (request.node == service_->options().self ||
                                  service_->liveness().IsUp(request.node))) {
    return Reply(respond, Status::InvalidArgument(
                              "'" + request.node + "' is up: " + request.op +
                              " is for a dead member (leave or replace stream its data away)"));
  }
  Result<RingState> next = Status::Internal("unreachable");
  if (request.op == "join") {
    const StateMember* known = state_.Find(request.node);
    if (known != nullptr && known->status == MemberStatus::kJoining &&
        known->address == request.address &&
        std::any_of(state_.staged.begin(), state_.staged.end(), [&](const StagedChange& c) {
          return c.node == request.node || c.with == request.node;
        })) {
      // A joining node retrying: the join is staged already.
      return Reply(respond, Status::OK());
    }
    next = StageJoin(state_, request.node, request.address);
  } else if (request.op == "leave") {
    next = StageLeave(state_, request.node);
  } else if (request.op == "replace") {
    next = StageReplace(state_, request.node, request.replacement);
  } else if (request.op == "force-remove") {
    next = StageForceRemove(state_, request.node);
  } else if (request.op == "force-replace") {
    next = StageForceReplace(state_, request.node, request.replacement);
  } else if (request.op == "mark-down") {
    next = MarkDown(state_, request.node);
  } else if (request.op == "limits") {
    Result<TransferLimits> limits = ParseTransferLimits(request.settings, state_.limits);
    if (!limits.ok()) return Reply(respond, limits.status());
    next = SetTransferLimits(state_, *limits);
  } else if (request.op == "bucket") {
    Result<BucketInfo> bucket =
        CheckBucketChange(state_, request.bucket, request.settings,
                          service_->options().buckets.catalog(), service_->options().self);
    if (!bucket.ok()) return Reply(respond, bucket.status());
    const auto same = std::find(state_.buckets.begin(), state_.buckets.end(), *bucket);
    // Setting what is set already makes no epoch.
    if (same != state_.buckets.end()) return Reply(respond, Status::OK());
    next = SetBucket(state_, std::move(bucket).value());
  } else if (request.op == "clear") {
    next = ClearStaged(state_);
  } else if (request.op == "commit") {
    next = CommitPlan(state_, request.plan_id);
  } else if (request.op == "transfer-done") {
    next = MarkTransferDone(state_, request.partition, request.from, request.node);
    if (next.status().IsNotFound()) return Reply(respond, Status::OK());
  }
  if (!next.ok()) return Reply(respond, next.status());
  Result<bool> adopted = Adopt(std::move(next).value());
  if (!adopted.ok() || request.op == "transfer-done") return Reply(respond, adopted.status());
  AwaitMajority(state_.epoch, ReplyBy(deadline_us), std::move(respond));
}

void RingKeeper::AwaitMajority(uint64_t epoch, int64_t until_us, PeerRpc::Respond respond) {
  const Gossiper* g = service_->gossiper();
  const NodeId& self = service_->options().self;
  size_t valid = 0, have = 0;
  for (const StateMember& m : state_.members) {
    if (m.status != MemberStatus::kValid) continue;
    ++valid;
    if (m.id == self || g == nullptr) {
      ++have;
      continue;
    }
    auto it = g->ring_epochs().find(m.id);
    if (it != g->ring_epochs().end() && it->second >= epoch) ++have;
  }
  if (2 * have > valid) return Reply(respond, Status::OK());
  if (clock_->MonoMicros() >= until_us) {
    return Reply(respond, Status::Unavailable(
                              "made ring epoch " + std::to_string(epoch) + " but only " +
                              std::to_string(have) + " of " + std::to_string(valid) +
                              " valid members have it yet; it spreads by gossip (see ring state)"));
  }
  scheduler_->RunAfter(kAwaitPollUs, [this, epoch, until_us, respond = std::move(respond),
                                      alive = alive_]() mutable {
    if (*alive) AwaitMajority(epoch, until_us, std::move(respond));
  });
}

void RingKeeper::Plan(int64_t deadline_us, PeerRpc::Respond respond) {
  Result<ringkv::Plan> plan = MakePlan(state_);
  if (!plan.ok()) return Reply(respond, plan.status());
  struct Gather {
    PlanView view;
    std::map<NodeId, std::vector<size_t>> by_sender;  // move indexes
    size_t waiting = 0;
    bool answered = false;
    PeerRpc::Respond respond;
  };
  auto g = std::make_shared<Gather>();
  g->view.id = plan->id;
  g->view.epoch = plan->epoch;
  g->view.staged = plan->staged;
  g->view.after = plan->after;
  g->view.forced = plan->forced;
  for (size_t i = 0; i < plan->moves.size(); ++i) {
    g->view.moves.push_back({plan->moves[i], 0, 0, /*size_known=*/false});
    g->by_sender[plan->moves[i].from].push_back(i);
  }
  g->respond = std::move(respond);
  auto fill = [g](const NodeId& sender, const PartitionSizesReply& sizes) {
    if (!sizes.status.ok()) return;
    const std::vector<size_t>& moves = g->by_sender[sender];
    for (size_t i = 0; i < moves.size() && i < sizes.keys.size() && i < sizes.bytes.size(); ++i) {
      g->view.moves[moves[i]].keys = sizes.keys[i];
      g->view.moves[moves[i]].bytes = sizes.bytes[i];
      g->view.moves[moves[i]].size_known = true;
    }
  };
  // Once: when the last sender answered, or at the plan's deadline.
  auto answer = [this, g] {
    if (g->answered) return;
    g->answered = true;
    // Pacing is per sending node: the one with the most bytes to send
    // sets the time (at this node's pace, the ring's when set). Unknown
    // sizes count as nothing, so the ETA is then a lower bound.
    std::map<NodeId, uint64_t> bytes;
    for (const PlanMove& m : g->view.moves) bytes[m.move.from] += m.bytes;
    const double mib = transfers_->mib_per_sec();
    for (const auto& [sender, b] : bytes) {
      if (mib > 0 && !g->view.forced) {
        g->view.eta_sec = std::max(g->view.eta_sec, static_cast<double>(b) / (mib * 1024 * 1024));
      }
    }
    RingAdminReply reply;
    reply.state = EncodeRingState(state_);
    reply.plan = EncodePlan(g->view);
    g->respond(std::move(reply));
  };
  g->waiting = g->by_sender.size();
  if (g->waiting == 0) return answer();
  const int64_t now = clock_->MonoMicros();
  const int64_t until = std::min(ReplyBy(deadline_us), now + kPlanSizesMaxUs);
  for (const auto& [sender, moves] : g->by_sender) {
    PartitionSizesRequest request;
    for (size_t i : moves) request.partitions.push_back(g->view.moves[i].move.partition);
    if (sender == service_->options().self) {
      fill(sender, transfers_->Sizes(request.partitions));
      --g->waiting;
      continue;
    }
    if (!service_->liveness().IsUp(sender)) {
      --g->waiting;  // seen down: its sizes stay unknown, no need to wait
      continue;
    }
    service_->rpc().Call(sender, std::move(request), until,
                         [g, fill, answer, sender, alive = alive_](Result<MessageBody> r) {
                           if (!*alive || g->answered) return;
                           if (r.ok()) {
                             if (auto* sizes = std::get_if<PartitionSizesReply>(&*r)) {
                               fill(sender, *sizes);
                             }
                           }
                           if (--g->waiting == 0) answer();
                         });
  }
  if (g->waiting == 0) return answer();
  scheduler_->RunAfter(until - now, [answer, alive = alive_] {
    if (*alive) answer();
  });
}

void RingKeeper::ScheduleTick() {
  tick_ = scheduler_->RunAfter(options_.tick_us, [this, alive = alive_] {
    if (!*alive) return;
    tick_ = 0;
    Tick();
    ScheduleTick();
  });
}

bool RingKeeper::AllKnow(uint64_t epoch) const {
  const Gossiper* g = service_->gossiper();
  if (g == nullptr) return true;
  const NodeId& self = service_->options().self;
  for (const StateMember& m : state_.members) {
    if (m.id == self || m.status == MemberStatus::kDown) continue;
    // A member that is down coordinates nothing until it hears the ring.
    if (!service_->liveness().IsUp(m.id)) continue;
    auto it = g->ring_epochs().find(m.id);
    if (it == g->ring_epochs().end() || it->second < epoch) return false;
  }
  return true;
}

void RingKeeper::Tick() {
  const uint64_t handovers = std::max(state_.change_epoch, handover_epoch_);
  transfers_->Tick(state_, state_.changing() && AllKnow(handovers), handovers);
  MarkUpReturned();
  TellClaimant();
  CatchUp();
  Cleanup();
}

void RingKeeper::MarkUpReturned() {
  // Up by the failure detector is not enough: a claimant that just
  // restarted counts a dead member up for its first seconds, and made a
  // member crashed for good valid (and claimant) again (the simulator's
  // ring-force-replace seed 1092).
  const Gossiper* g = service_->gossiper();
  for (const StateMember& m : state_.members) {
    if (m.status != MemberStatus::kDown || !service_->liveness().IsUp(m.id) ||
        (g != nullptr && !g->HeardAlive(m.id))) {
      continue;
    }
    if (!CanCommit(RingAdminRequest{"mark-up", m.id, {}, {}, 0, {}, {}, {}}).ok()) return;
    Result<RingState> next = MarkUp(state_, m.id);
    if (!next.ok()) return;
    if (options_.info) options_.info("member " + m.id + " was marked down and is up again: valid");
    (void)Adopt(std::move(next).value());
    return;
  }
}

void RingKeeper::TellClaimant() {
  for (auto it = to_report_.begin(); it != to_report_.end();) {
    const auto& [partition, from, to] = *it;
    const bool pending = std::any_of(state_.transfers.begin(), state_.transfers.end(),
                                     [&](const Move& m) {
                                       return m.partition == partition && m.from == from &&
                                              m.to == to && !m.done;
                                     });
    it = pending ? std::next(it) : to_report_.erase(it);
  }
  for (const auto& [partition, from, to] : to_report_) {
    RingAdminRequest request;
    request.op = "transfer-done";
    request.partition = partition;
    request.from = from;
    request.node = to;
    // The answer comes back as a new epoch by gossip; a lost one is sent
    // again at the next tick.
    Handle(request, NodeId(), clock_->MonoMicros() + 5'000'000, [](MessageBody) {});
  }
}

int64_t CatchUpBackoffUs(uint32_t failures, int64_t tick_us) {
  int64_t wait = std::max<int64_t>(tick_us, 1);
  for (uint32_t i = 1; i < failures && wait < kCatchUpBackoffMaxUs; ++i) wait *= 2;
  return std::min(wait, kCatchUpBackoffMaxUs);
}

TransferReport RingKeeper::Report() const {
  TransferReport report = transfers_->Report();
  const int64_t now = clock_->MonoMicros();
  for (uint32_t p : catch_up_) {
    TransferProgress t;
    t.partition = p;
    t.to = service_->options().self;
    t.state = "catch-up";
    auto it = catch_up_tries_.find(p);
    if (it != catch_up_tries_.end() && it->second.failures > 0) {
      t.state = "catch-up-retrying";
      t.from = it->second.peer;
      t.reason = it->second.reason;
      t.attempts = it->second.failures;
      t.retry_in_sec = static_cast<double>(std::max<int64_t>(0, it->second.next_us - now)) / 1e6;
    }
    report.transfers.push_back(std::move(t));
  }
  return report;
}

int64_t RingKeeper::ReplyBy(int64_t deadline_us) const {
  // The last quarter of the request's time is for the answer's way back
  // (through the member that forwarded it).
  const int64_t now = clock_->MonoMicros();
  return now + std::max<int64_t>(0, deadline_us - now) * 3 / 4;
}

void RingKeeper::CatchUp() {
  if (catching_up_ || catch_up_.empty() || state_.changing()) return;
  if (!options_.catch_up) return CaughtUp(std::nullopt);
  // The first partition owed whose backoff has passed: one that a peer
  // keeps refusing does not hold up the others.
  const int64_t now = clock_->MonoMicros();
  std::optional<uint32_t> due;
  for (uint32_t p : catch_up_) {
    auto it = catch_up_tries_.find(p);
    if (it == catch_up_tries_.end() || it->second.next_us <= now) {
      due = p;
      break;
    }
  }
  if (!due) return;
  const uint32_t partition = *due;
  Result<Ring> ring = PlacementRing(state_);
  std::vector<NodeId> peers;
  bool replica = false;
  const std::set<NodeId>& done = catch_up_tries_[partition].done;
  if (ring.ok()) {
    for (const NodeId& n : ring->PlacementForPartition(partition, state_.n).primaries) {
      if (n == service_->options().self) {
        replica = true;
      } else if (done.count(n) == 0) {
        peers.push_back(n);
      }
    }
  }
  // Moved on by a later change: its next receiver owes the exchange now.
  if (!replica || peers.empty()) return CaughtUp(partition);
  catching_up_ = true;
  ExchangeWith(partition, std::move(peers), 0);
}

void RingKeeper::ExchangeWith(uint32_t partition, std::vector<NodeId> peers, size_t next) {
  if (next == peers.size()) {
    catching_up_ = false;
    return CaughtUp(partition);
  }
  const NodeId peer = peers[next];
  options_.catch_up(partition, peer, [this, partition, peer, peers = std::move(peers), next,
                                      alive = alive_](Status st) mutable {
    if (!*alive) return;
    if (st.ok()) {
      catch_up_tries_[partition].done.insert(peer);
      return ExchangeWith(partition, std::move(peers), next + 1);
    }
    catching_up_ = false;
    // Busy: this node's anti-entropy is running another exchange; tried
    // at the next tick. Anything else (the peer down, refusing with
    // anti-entropy off, a view of the ring that lags just after the flip)
    // backs off, so a peer that always refuses costs a request a minute.
    if (st.code() == Status::Code::kBusy) return;
    const int64_t now = clock_->MonoMicros();
    CatchUpTries& tries = catch_up_tries_[partition];
    ++tries.failures;
    tries.peer = peer;
    tries.reason = st.ToString();
    const int64_t wait = CatchUpBackoffUs(tries.failures, options_.tick_us);
    tries.next_us = now + wait;
    catch_up_failures_->Increment();
    if (options_.warn &&
        (last_catch_up_warn_us_ == 0 || now - last_catch_up_warn_us_ >= kWarnEveryUs)) {
      last_catch_up_warn_us_ = now;
      options_.warn("catch-up exchange of partition " + std::to_string(partition) + " with " +
                    peer + " after the ring change: " + st.ToString() + " (failure " +
                    std::to_string(tries.failures) + ", tried again in " +
                    std::to_string(wait / 1'000'000) + " s)");
    }
  });
}

void RingKeeper::CaughtUp(std::optional<uint32_t> partition) {
  if (partition) {
    catch_up_.erase(*partition);
    catch_up_tries_.erase(*partition);
  } else {
    catch_up_.clear();
    catch_up_tries_.clear();
  }
  WriteBatch wb;
  if (catch_up_.empty()) {
    wb.Delete(MetaKey(kMetaCatchUp));
  } else {
    wb.Put(MetaKey(kMetaCatchUp), EncodePartitions(catch_up_));
  }
  // Unsynced: a power cut that loses it only repeats an exchange.
  if (Status st = storage_->Write(wb, /*sync=*/false); !st.ok() && options_.warn) {
    options_.warn("cannot record the catch-up exchanges still owed: " + st.ToString());
  }
}

void RingKeeper::Cleanup() {
  if (state_.changing()) return;
  const int64_t now = clock_->MonoMicros();
  // Swept again a delay after each full sweep: a copy that came after it
  // (a write or read repair from a coordinator still on the old ring)
  // would otherwise stay for good.
  if (cleaned_epoch_ == state_.epoch && now - cleaned_at_us_ < options_.cleanup_delay_us) return;
  if (now - stable_since_us_ < options_.cleanup_delay_us) return;
  if (!AllKnow(state_.epoch)) return;
  // Never delete by a ring other than the one this node routes by (a ring
  // published past the keeper, as the static bootstrap and the simulator
  // can): what that ring places here stays.
  if (service_->ring().epoch() != state_.epoch) return;
  Result<Ring> ring = PlacementRing(state_);
  if (!ring.ok()) return;
  const NodeId& self = service_->options().self;
  const uint32_t n = state_.max_n();
  size_t budget = options_.cleanup_batch;
  for (uint32_t p = 0; p < state_.partitions && budget > 0; ++p) {
    if (ring->Replicates(p, n, self)) continue;
    std::vector<ObjectName> names;
    PartitionIterator it(storage_, nullptr, p);
    for (it.SeekToFirst(); it.Valid() && names.size() < budget; it.Next()) {
      names.push_back({it.bucket(), it.key()});
    }
    for (const ObjectName& name : names) {
      --budget;
      Result<std::optional<Object>> object = service_->replica().Read(p, name.bucket, name.key);
      if (!object.ok() || !object->has_value()) continue;
      // Only if still the copy read: a write racing in keeps it.
      Result<bool> reaped = service_->replica().Reap(p, name.bucket, name.key, **object);
      if (reaped.ok() && *reaped) cleaned_objects_->Increment();
    }
  }
  if (budget > 0) {
    cleaned_epoch_ = state_.epoch;
    cleaned_at_us_ = now;
    transfers_->ForgetCheckpoints(0);
  }
}

}  // namespace ringkv
