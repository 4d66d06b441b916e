#include "replication/service.h"

#include <algorithm>
#include <utility>

#include "causality/object_limits.h"
#include "common/hash.h"
#include "proto/codec.h"
#include "proto/request_limits.h"
#include "replication/admission.h"
#include "replication/coordinator.h"
#include "replication/hint_store.h"
#include "replication/hinted_handoff.h"
#include "replication/object_store.h"
#include "replication/replica.h"
#include "replication/request_metrics.h"

namespace ringkv {
namespace {

// How long past a forwarded put's deadline its duplicates are still
// recognised: covers the network delaying a copy beyond the deadline.
constexpr int64_t kForwardDedupSlackUs = 1'000'000;

constexpr const char* kInvalidRequestsHelp =
    "Requests refused because a field was out of bounds (docs/limits.md), by source.";

ServiceEnv WithMetrics(ServiceEnv env, MetricsRegistry* fallback) {
  if (env.metrics == nullptr) env.metrics = fallback;
  return env;
}

}  // namespace

Service::Service(ServiceOptions options, Ring ring, ServiceEnv env)
    : own_metrics_(env.metrics == nullptr ? std::make_unique<MetricsRegistry>() : nullptr),
      options_(std::move(options)),
      membership_(std::move(ring), options_.addresses),
      env_(WithMetrics(env, own_metrics_.get())),
      generation_(options_.generation != 0 ? options_.generation
                                           : static_cast<uint64_t>(env_.clock->WallMicros())),
      rpc_(options_.self, generation_, env.clock, env.scheduler, env.transport, env.random,
           env_.metrics, options_.default_timeout_ms),
      // Grouped only when every write is fsync'd: without the fsync a
      // LevelDB write costs about what its keys do, and grouping costs more
      // than it saves (docs/performance.md, "Group commit").
      store_(std::make_unique<ObjectStore>(env.storage, options_.sync_writes,
                                           options_.sync_writes ? env.scheduler : nullptr,
                                           env_.metrics)),
      hints_(std::make_unique<HintStore>(env.storage, options_.sync_writes, env_.metrics)),
      replica_(std::make_unique<Replica>(Actor{options_.self, options_.incarnation},
                                         &options_.buckets, store_.get(), env_.metrics)),
      requests_(std::make_unique<RequestMetrics>(env_.metrics, env.clock)),
      invalid_client_requests_(env_.metrics->AddCounter(
          "ringkv_invalid_requests_total", kInvalidRequestsHelp, {{"source", "client"}})),
      invalid_peer_requests_(env_.metrics->AddCounter(
          "ringkv_invalid_requests_total", kInvalidRequestsHelp, {{"source", "peer"}})) {
  if (options_.failure_detection) {
    gossiper_ = std::make_unique<Gossiper>(options_.self, generation_, GossipMembers(),
                                           options_.gossip, env_.clock, env_.scheduler, &rpc_,
                                           env_.random);
    gossiper_->set_ring_epoch(membership_.epoch());
    // Gossip follows the ring: new members are gossiped to and judged.
    membership_.Subscribe([this](const Ring&) {
      gossiper_->SetMembers(GossipMembers());
      gossiper_->set_ring_epoch(membership_.epoch());
    });
    if (env_.liveness == nullptr) env_.liveness = gossiper_.get();
  }
  if (env_.liveness != nullptr && env_.reachability != nullptr) {
    gossip_and_reachability_ = std::make_unique<BothUp>(env_.liveness, env_.reachability);
    env_.liveness = gossip_and_reachability_.get();
  } else if (env_.liveness == nullptr) {
    env_.liveness = env_.reachability;
  }
  if (env_.liveness == nullptr) env_.liveness = &all_up_;
  coordinator_ = std::make_unique<Coordinator>(&options_, &membership_, env_, &rpc_, replica_.get(),
                                               hints_.get(), env_.liveness);
  HandoffOptions handoff;
  handoff.rate_per_sec = options_.hint_rate_per_sec;
  handoff.warn = options_.warn;
  handoff.route = [this](const HintStore::Entry& hint) {
    return HintRoute(hint.target, hint.partition, hint.bucket);
  };
  handoff.member = [this](const NodeId& node) {
    const std::vector<NodeId>& members = this->ring().members();
    return std::find(members.begin(), members.end(), node) != members.end();
  };
  handoff_ = std::make_unique<HintedHandoff>(&rpc_, hints_.get(), replica_.get(), env_.liveness,
                                             handoff, env_.clock, env_.scheduler, env_.metrics);
  read_siblings_ = env_.metrics->AddHistogram(
      "ringkv_read_siblings", "Values (siblings) per client read that found some.", {}, 1);
  peer_up_ = env_.metrics->AddGaugeFamilyCallback(
      "ringkv_peer_up", "1 while this node believes the peer up (failure detector and transport).",
      [this] { return PeerGauge(/*phi=*/false); });
  peer_phi_ = env_.metrics->AddGaugeFamilyCallback(
      "ringkv_peer_phi", "The failure detector's suspicion of the peer (marked down at --phi-threshold).",
      [this] { return PeerGauge(/*phi=*/true); });
  ServePeers();
}

std::vector<LabeledValue> Service::PeerGauge(bool phi) const {
  std::vector<LabeledValue> out;
  if (!gossiper_) return out;
  for (const PeerState& p : gossiper_->View()) {
    if (p.node == options_.self) continue;
    const double value = phi ? p.phi : (p.up && env_.liveness->IsUp(p.node) ? 1 : 0);
    out.push_back({{{"peer", p.node}}, value});
  }
  return out;
}

Service::~Service() = default;

Status Service::Start() {
  RINGKV_RETURN_IF_ERROR(hints_->Load());
  if (options_.deliver_hints) handoff_->Start();
  if (gossiper_) gossiper_->Start();
  return Status::OK();
}

void Service::SetObjectWriteObserver(ObjectWriteObserver* observer) {
  store_->set_observer(observer);
}

Status Service::CommitWrites() { return store_->Commit(); }

const std::map<NodeId, uint64_t>& Service::HintCounts() const { return hints_->counts(); }

ReplicaGetReply Service::ReadLocal(const ReplicaGetRequest& get) {
  ReplicaGetReply reply;
  auto local = replica_->Read(ring().PartitionOf(KeyHash(get.bucket, get.key)), get.bucket,
                              get.key);
  if (!local.ok()) {
    reply.status = local.status();
  } else if (local->has_value() && ObjectSize(**local) > kMaxMergedObjectBytes) {
    // Stored before the cap existed: answering would cut the link.
    reply.status = Status::ObjectTooLarge("the stored object of " +
                                          std::to_string(ObjectSize(**local)) +
                                          " bytes is too large to send");
  } else if (local->has_value()) {
    reply.found = true;
    reply.object = std::move(**local);
  }
  return reply;
}

std::vector<NodeId> Service::GossipMembers() const {
  std::vector<NodeId> members = ring().members();
  for (const auto& [id, address] : membership_.addresses()) {
    if (std::find(members.begin(), members.end(), id) == members.end()) members.push_back(id);
  }
  return members;
}

RingInfo Service::RingReport() const {
  RingInfo r;
  const Ring& current = ring();
  r.epoch = current.epoch();
  r.partitions = current.partitions();
  r.n = current.n();
  const Membership::Addresses& addresses = membership_.addresses();
  for (const NodeId& m : current.members()) {
    auto it = addresses.find(m);
    r.members.push_back({m, it == addresses.end() ? std::string() : it->second});
  }
  // Owners come from claims made over the ring's history, which the
  // members alone no longer determine: clients are told them.
  for (uint32_t p = 0; p < current.partitions(); ++p) {
    r.owners.push_back(static_cast<uint32_t>(
        std::lower_bound(current.members().begin(), current.members().end(), current.Owner(p)) -
        current.members().begin()));
  }
  r.default_bucket = BucketInfoOf("", options_.buckets.defaults());
  for (const auto& [name, props] : options_.buckets.named()) {
    r.buckets.push_back(BucketInfoOf(name, props));
  }
  return r;
}

NodeStatus Service::StatusReport() const {
  NodeStatus s;
  s.node = options_.self;
  s.incarnation = options_.incarnation;
  s.ring_epoch = ring().epoch();
  if (gossiper_) s.peers = gossiper_->View();
  for (PeerState& p : s.peers) p.up = p.up && env_.liveness->IsUp(p.node);
  for (const auto& [target, count] : hints_->counts()) s.hints.push_back({target, count});
  s.hints_delivered = handoff_->delivered();
  s.hint_write_failures = hints_->write_failures();
  s.metrics = env_.metrics->Snapshot();
  return s;
}

int64_t Service::DeadlineFor(const Message& m) const {
  uint32_t ms = m.timeout_ms ? m.timeout_ms : options_.default_timeout_ms;
  return env_.clock->MonoMicros() + static_cast<int64_t>(ms) * 1000;
}

void Service::HandleClientRequest(Message&& request, std::function<void(Message)> reply) {
  uint64_t id = request.request_id;
  auto respond = [id, reply = std::move(reply)](MessageBody body) {
    Message m;
    m.request_id = id;
    m.body = std::move(body);
    reply(std::move(m));
  };
  int64_t deadline = DeadlineFor(request);
  const int64_t start_us = env_.clock->MonoMicros();
  if (Status invalid = ValidateRequest(request.body); !invalid.ok()) {
    invalid_client_requests_->Increment();
    if (std::holds_alternative<PutRequest>(request.body)) {
      requests_->RecordPut(start_us, invalid);
    } else if (std::holds_alternative<GetRequest>(request.body)) {
      requests_->RecordRead(RequestMetrics::Op::kGet, start_us, invalid, false);
    } else if (std::holds_alternative<ReplicaGetRequest>(request.body)) {
      requests_->RecordRead(RequestMetrics::Op::kReplicaGet, start_us, invalid, false);
    }
    respond(Refusal(request.body, std::move(invalid)));
  } else if (std::holds_alternative<Ping>(request.body)) {
    respond(Pong{options_.self});
  } else if (std::holds_alternative<StatusRequest>(request.body)) {
    respond(StatusReport());
  } else if (std::holds_alternative<RingRequest>(request.body)) {
    respond(RingReport());
  } else if (auto* read = std::get_if<ReplicaGetRequest>(&request.body)) {
    // A client coordinating its own read (Dynamo's client-driven reads)
    // asks each replica directly; it merges the answers itself.
    ReplicaGetReply r = ReadLocal(*read);
    requests_->RecordRead(RequestMetrics::Op::kReplicaGet, start_us, r.status,
                          r.found && !r.object.IsDeleted());
    respond(std::move(r));
  } else if (auto* get = std::get_if<GetRequest>(&request.body)) {
    coordinator_->Get(*get, deadline, [this, start_us, respond = std::move(respond)](GetReply r) {
      requests_->RecordRead(RequestMetrics::Op::kGet, start_us, r.status,
                            r.found && !r.object.IsDeleted());
      if (r.status.ok() && r.found && !r.object.IsDeleted()) {
        read_siblings_->Observe(r.object.Values().size());
      }
      respond(std::move(r));
    });
  } else if (auto* put = std::get_if<PutRequest>(&request.body)) {
    // A client cannot claim a put was already forwarded, nor choose the
    // time LWW orders it by, nor the id merges fold repeats of a write by.
    put->forwarded = false;
    put->timestamp_us = 0;
    put->write_id = WriteId{};
    coordinator_->Put(std::move(*put), deadline,
                      [this, start_us, respond = std::move(respond)](PutReply r) {
                        requests_->RecordPut(start_us, r.status);
                        respond(std::move(r));
                      });
  } else if (extra_client_ && !IsReply(request.body) && !IsOneWay(request.body)) {
    extra_client_(request.body, deadline, std::move(respond));
  } else {
    respond(ErrorReply{Status::InvalidArgument("not a client request")});
  }
}

std::vector<NodeId> Service::HintRoute(const NodeId& target, uint32_t partition,
                                       std::string_view bucket) const {
  const Ring& ring = this->ring();
  if (partition >= ring.partitions()) return {};
  const std::vector<NodeId> primaries =
      ring.PlacementForPartition(partition, options_.buckets.Get(bucket).n).primaries;
  if (std::find(primaries.begin(), primaries.end(), target) == primaries.end()) {
    // Its copy went to the partition's replicas of this ring: a causal
    // merge into each, as read repair would do.
    return primaries;
  }
  const NodeId* receiver = ring.HandoverTarget(partition, target);
  if (receiver == nullptr || *receiver == target) return {};
  return {target, *receiver};
}

bool Service::TakesHandoff(uint32_t partition, std::string_view bucket) const {
  const Ring& ring = this->ring();
  if (ring.Replicates(partition, options_.buckets.Get(bucket).n, options_.self)) return true;
  return std::any_of(ring.handovers().begin(), ring.handovers().end(), [&](const Handover& h) {
    return h.partition == partition && h.to == options_.self;
  });
}

void Service::OnPeerMessage(Message&& message) { rpc_.OnMessage(std::move(message)); }

void Service::ServePeers() {
  rpc_.Serve<ReplicaGetRequest>(
      [this](const PeerRpc::Request&, ReplicaGetRequest& get, PeerRpc::Respond respond) {
        respond(ReadLocal(get));
      });
  rpc_.Serve<ReplicaPutRequest>(
      [this](const PeerRpc::Request&, ReplicaPutRequest& put, PeerRpc::Respond respond) {
        uint32_t partition = ring().PartitionOf(KeyHash(put.bucket, put.key));
        Status st = AdmitHintTarget(put.hint_for, ring());
        if (st.ok()) st = AdmitTimestamps(put.object, env_.clock->WallMicros());
        if (!st.ok()) {
          // A hint for a stranger would be kept forever; a stamp from the
          // far future would win every LWW merge.
          invalid_peer_requests_->Increment();
        } else if (!put.hint_for.empty() && put.hint_for != options_.self) {
          st = hints_->Add(put.hint_for, partition, put.bucket, put.key, put.object);
        } else if (put.handoff && !TakesHandoff(partition, put.bucket)) {
          // A hint for a copy this node no longer keeps (a ring change
          // moved it): stored here it would be cleaned up, or kept by a
          // node about to leave. Refused, the holder keeps it and routes
          // it to the partition's replicas once it has this ring.
          st = Status::Unavailable(options_.self + " does not replicate partition " +
                                   std::to_string(partition) + " at ring epoch " +
                                   std::to_string(ring().epoch()));
        } else {
          // Acknowledged once the turn's group commit has it in storage.
          replica_->Merge(partition, put.bucket, put.key, put.object,
                          [respond = std::move(respond)](const Status& stored) {
                            respond(ReplicaPutReply{stored});
                          });
          return;
        }
        respond(ReplicaPutReply{st});
      });
  rpc_.Serve<PutRequest>([this](const PeerRpc::Request& request, PutRequest& put,
                                PeerRpc::Respond respond) {
    ServeForward(request, put, std::move(respond));
  });
  rpc_.Serve<Ping>([this](const PeerRpc::Request&, Ping&, PeerRpc::Respond respond) {
    respond(Pong{options_.self});
  });
  rpc_.Listen<Gossip>([this](const NodeId& from, Gossip& gossip) {
    if (gossiper_) gossiper_->OnGossip(from, gossip);
  });
}

void Service::ServeForward(const PeerRpc::Request& request, PutRequest& put,
                           PeerRpc::Respond respond) {
  PutReply earlier;
  const NodeId& from = request.from;
  const uint64_t id = request.id;
  const uint64_t fingerprint = ForwardDedup::Fingerprint(put);
  switch (forwarded_.Begin(from, id, fingerprint, env_.clock->MonoMicros(),
                           request.deadline_us + kForwardDedupSlackUs, &earlier)) {
    case ForwardDedup::Seen::kInProgress:
      return;
    case ForwardDedup::Seen::kDone:
      respond(std::move(earlier));
      return;
    case ForwardDedup::Seen::kNew:
      break;
  }
  coordinator_->Put(std::move(put), request.deadline_us,
                    [this, from, id, fingerprint, respond = std::move(respond)](PutReply r) {
                      forwarded_.Finish(from, id, fingerprint, r);
                      respond(std::move(r));
                    });
}

}  // namespace ringkv
