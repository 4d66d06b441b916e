#include "antientropy/anti_entropy.h"

#include <algorithm>
#include <utility>

#include "antientropy/hashing.h"

namespace ringkv::aae {
namespace {

enum ResultLabel { kEqual = 0, kRepaired = 1, kUnrepaired = 2, kError = 3 };
constexpr const char* kResultNames[] = {"equal", "repaired", "unrepaired", "error"};

ExchangeLimits LimitsOf(const AntiEntropyOptions& o) {
  ExchangeLimits limits;
  limits.confirm_pause_us = o.confirm_pause_us > 0
                                ? o.confirm_pause_us
                                : std::clamp<int64_t>(o.interval_us / 4, 1000, 500'000);
  limits.step_timeout_us = o.step_timeout_us;
  limits.max_segments = o.max_segments;
  return limits;
}

}  // namespace

AntiEntropy::AntiEntropy(AntiEntropyOptions options, Service* service, Storage* storage,
                         Clock* clock, Scheduler* scheduler, Random* random,
                         MetricsRegistry* metrics)
    : options_(std::move(options)),
      service_(service),
      storage_(storage),
      clock_(clock),
      scheduler_(scheduler),
      random_(random),
      objects_(options_.repair_objects_per_sec, std::max(1.0, options_.repair_objects_per_sec)),
      bytes_(options_.repair_bytes_per_sec, std::max(1.0, options_.repair_bytes_per_sec)),
      partitions_(service->ring().partitions()) {
  options_.trees.partitions = service->ring().partitions();
  options_.trees.sync = service->options().sync_writes;
  trees_ = std::make_unique<Trees>(options_.trees, storage_, scheduler_, metrics);
  for (int r = 0; r < 4; ++r) {
    exchanges_[r] = metrics->AddCounter("ringkv_aae_exchanges_total",
                                        "Anti-entropy exchanges this node started, by result.",
                                        {{"result", kResultNames[r]}});
  }
  segments_differing_ = metrics->AddCounter(
      "ringkv_aae_segments_differing_total",
      "Segments found different (twice) in this node's exchanges.");
  keys_differing_ = metrics->AddCounter("ringkv_aae_keys_differing_total",
                                        "Keys found different in this node's exchanges.");
  keys_repaired_ = metrics->AddCounter(
      "ringkv_aae_keys_repaired_total",
      "Keys this node's exchanges changed, here or on the peer.");
  repair_failures_ = metrics->AddCounter(
      "ringkv_aae_repair_failures_total",
      "Differing keys an exchange could not repair (peer error, timeout, storage error).");
  sent_tree_ = metrics->AddCounter("ringkv_aae_sent_bytes_total",
                                   "Frame bytes this node sent in exchanges, by stage.",
                                   {{"stage", "tree"}});
  sent_keys_ = metrics->AddCounter("ringkv_aae_sent_bytes_total",
                                   "Frame bytes this node sent in exchanges, by stage.",
                                   {{"stage", "keys"}});
  sent_reap_ = metrics->AddCounter("ringkv_aae_sent_bytes_total",
                                   "Frame bytes this node sent in exchanges, by stage.",
                                   {{"stage", "reap"}});
  repair_bytes_ = metrics->AddCounter(
      "ringkv_aae_repair_bytes_total",
      "Frame bytes of the object reads and writes of this node's repairs, both directions.");
  tombstones_reaped_ = metrics->AddCounter(
      "ringkv_aae_tombstones_reaped_total",
      "Tombstones this node removed because every replica of their key held them.");
  reap_rounds_ = metrics->AddCounter("ringkv_aae_reap_rounds_total",
                                     "Tombstone reaping rounds this node ran.");
  pending_gauge_ = metrics->AddGaugeCallback(
      "ringkv_aae_tombstones_pending",
      "Tombstones the last full reaping pass of each partition found and kept, less those "
      "removed since.",
      {}, [this] {
        uint64_t n = 0;
        for (const PartitionState& s : partitions_) n += s.tombstones_pending;
        return static_cast<double>(n);
      });
  refused_ = metrics->AddCounter(
      "ringkv_aae_requests_refused_total",
      "Exchange requests from peers refused (tree not trusted, wrong shape, bad arguments).");
}

AntiEntropy::~AntiEntropy() {
  *alive_ = false;
  exchange_.reset();
  reap_.reset();
  pass_.reset();
  if (tick_ != 0) scheduler_->Cancel(tick_);
  if (verify_timer_ != 0) scheduler_->Cancel(verify_timer_);
  service_->SetClientHandler(nullptr);
  if (options_.enabled) {
    service_->SetObjectWriteObserver(nullptr);
    service_->rpc().set_sent_observer(nullptr);
  }
}

Status AntiEntropy::Start() {
  service_->SetClientHandler([this](MessageBody& body, int64_t deadline_us,
                                    PeerRpc::Respond respond) {
    HandleAdmin(body, deadline_us, std::move(respond));
  });
  if (!options_.enabled) return Trees::MarkTreesStale(storage_);
  RINGKV_RETURN_IF_ERROR(trees_->Open());
  service_->SetObjectWriteObserver(trees_.get());
  service_->rpc().set_sent_observer(
      [this](const MessageBody& body, size_t bytes) { CountSent(body, bytes); });
  ServePeers();
  ScheduleTick();
  ScheduleVerify();
  return Status::OK();
}

Status AntiEntropy::Stop() {
  if (!options_.enabled || stopped_) return Status::OK();
  stopped_ = true;
  exchange_.reset();
  reap_.reset();
  pass_.reset();
  return trees_->Save();
}

void AntiEntropy::CountSent(const MessageBody& body, size_t bytes) {
  if (std::holds_alternative<AaeRootRequest>(body) || std::holds_alternative<AaeRootReply>(body) ||
      std::holds_alternative<AaeRootEqual>(body) ||
      std::holds_alternative<AaeBranchRequest>(body) ||
      std::holds_alternative<AaeBranchReply>(body)) {
    sent_tree_->Add(bytes);
  } else if (std::holds_alternative<AaeReapRequest>(body) ||
             std::holds_alternative<AaeReapReply>(body)) {
    sent_reap_->Add(bytes);
  } else if (std::holds_alternative<AaeKeysRequest>(body) ||
             std::holds_alternative<AaeKeysReply>(body)) {
    sent_keys_->Add(bytes);
  }
}

std::vector<NodeId> AntiEntropy::PeersOf(uint32_t partition) const {
  const Ring& ring = service_->ring();
  std::vector<NodeId> peers;
  for (const NodeId& n : ring.PlacementForPartition(partition, ring.n()).primaries) {
    if (n != service_->options().self) peers.push_back(n);
  }
  return peers;
}

std::vector<NodeId> AntiEntropy::OthersOf(uint32_t partition) const {
  const std::vector<NodeId> peers = PeersOf(partition);
  std::vector<NodeId> others;
  for (const NodeId& n : service_->ring().members()) {
    if (n != service_->options().self && std::find(peers.begin(), peers.end(), n) == peers.end()) {
      others.push_back(n);
    }
  }
  return others;
}

bool AntiEntropy::IsPrimary(uint32_t partition) const {
  const Ring& ring = service_->ring();
  if (partition >= ring.partitions()) return false;
  const auto primaries = ring.PlacementForPartition(partition, ring.n()).primaries;
  return std::find(primaries.begin(), primaries.end(), service_->options().self) !=
         primaries.end();
}

Result<const HashTree*> AntiEntropy::TreeFor(uint32_t partition, uint32_t shape,
                                             uint32_t hash_version) {
  if (shape != kShape || hash_version != kHashVersion) {
    return Status::InvalidArgument("tree shape " + std::to_string(shape) + "/" +
                                   std::to_string(hash_version) + " is not this node's " +
                                   std::to_string(kShape) + "/" + std::to_string(kHashVersion));
  }
  if (!IsPrimary(partition)) {
    return Status::InvalidArgument("not a replica of partition " + std::to_string(partition));
  }
  const HashTree* tree = trees_->Trusted(partition);
  if (tree == nullptr) return Status::Unavailable("tree not built yet");
  return tree;
}

void AntiEntropy::ServePeers() {
  PeerRpc& rpc = service_->rpc();
  rpc.Serve<AaeRootRequest>([this](const PeerRpc::Request&, AaeRootRequest& req,
                                   PeerRpc::Respond respond) {
    AaeRootReply reply;
    Result<const HashTree*> tree = TreeFor(req.partition, req.shape, req.hash_version);
    if (!tree.ok()) {
      refused_->Increment();
      reply.status = tree.status();
    } else if ((*tree)->top() == req.top) {
      return respond(AaeRootEqual{});
    } else {
      reply.branches.assign((*tree)->branches().begin(), (*tree)->branches().end());
    }
    respond(std::move(reply));
  });
  rpc.Serve<AaeBranchRequest>([this](const PeerRpc::Request&, AaeBranchRequest& req,
                                     PeerRpc::Respond respond) {
    AaeBranchReply reply;
    Result<const HashTree*> tree = TreeFor(req.partition, req.shape, req.hash_version);
    const bool bad = req.branches.size() > kBranches ||
                     std::any_of(req.branches.begin(), req.branches.end(),
                                 [](uint32_t b) { return b >= kBranches; });
    if (!tree.ok() || bad) {
      refused_->Increment();
      reply.status = tree.ok() ? Status::InvalidArgument("bad branch list") : tree.status();
    } else {
      reply.segments.reserve(req.branches.size() * kSegmentsPerBranch);
      for (uint32_t b : req.branches) (*tree)->AppendSegments(b, &reply.segments);
    }
    respond(std::move(reply));
  });
  rpc.Serve<AaeReapRequest>([this](const PeerRpc::Request&, AaeReapRequest& req,
                                   PeerRpc::Respond respond) {
    // Any member may hold hints (as a stand-in); only primaries hold copies.
    const bool known = req.hints_only ? req.partition < service_->ring().partitions()
                                      : IsPrimary(req.partition);
    if (!known) {
      refused_->Increment();
      AaeReapReply reply;
      reply.status =
          Status::InvalidArgument("not a replica of partition " + std::to_string(req.partition));
      return respond(std::move(reply));
    }
    AaeReapReply reply = ServeReap(MakeReapEnv(), req);
    if (!reply.status.ok()) refused_->Increment();
    if (req.commit) Reaped(req.partition, std::count(reply.held.begin(), reply.held.end(), true));
    respond(std::move(reply));
  });
  rpc.Serve<AaeKeysRequest>([this](const PeerRpc::Request&, AaeKeysRequest& req,
                                   PeerRpc::Respond respond) {
    AaeKeysReply reply;
    Result<const HashTree*> tree = TreeFor(req.partition, req.shape, req.hash_version);
    const bool bad = req.segments.size() > options_.max_segments ||
                     std::any_of(req.segments.begin(), req.segments.end(),
                                 [](uint32_t s) { return s >= kSegments; });
    if (!tree.ok() || bad) {
      refused_->Increment();
      reply.status = tree.ok() ? Status::InvalidArgument("bad segment list") : tree.status();
    } else {
      std::sort(req.segments.begin(), req.segments.end());
      req.segments.erase(std::unique(req.segments.begin(), req.segments.end()),
                         req.segments.end());
      reply.status = trees_->ReadSegments(req.partition, req.segments, &reply.keys);
      if (!reply.status.ok()) reply.keys.clear();
    }
    respond(std::move(reply));
  });
}

ReapEnv AntiEntropy::MakeReapEnv() {
  return ReapEnv{&service_->rpc(),   trees_.get(),        &service_->replica(),
                 &service_->hints(), &service_->membership(), &service_->liveness(),
                 clock_,             tombstones_reaped_};
}

void AntiEntropy::ScheduleTick() {
  // Up to a fifth of jitter, so that nodes started together drift apart.
  const int64_t jitter =
      static_cast<int64_t>(random_->NextDouble() * static_cast<double>(options_.interval_us) / 5);
  tick_ = scheduler_->RunAfter(options_.interval_us + jitter, [this] {
    tick_ = 0;
    Tick();
    ScheduleTick();
  });
}

void AntiEntropy::Tick() {
  if (exchanging() || stopped_) return;
  const uint32_t q = service_->ring().partitions();
  // Reaping rounds and exchanges take turns, so that a long index read
  // over several rounds never holds the exchanges back.
  if (!reaped_last_tick_) {
    for (uint32_t p = 0; p < q; ++p) {
      if (ReapDue(p)) {
        reaped_last_tick_ = true;
        return RunReap(p, nullptr);
      }
    }
  }
  reaped_last_tick_ = false;
  for (uint32_t tries = 0; tries < q; ++tries) {
    const uint32_t p = next_partition_++ % q;
    if (!IsPrimary(p) || trees_->Trusted(p) == nullptr) continue;
    std::vector<NodeId> peers = PeersOf(p);
    std::erase_if(peers, [this](const NodeId& n) { return !service_->liveness().IsUp(n); });
    if (peers.empty()) continue;
    const NodeId peer = peers[partitions_[p].next_peer++ % peers.size()];
    Run(p, peer, nullptr);
    return;
  }
}

void AntiEntropy::ScheduleVerify() {
  const uint32_t q = std::max<uint32_t>(1, service_->ring().partitions());
  verify_timer_ = scheduler_->RunAfter(std::max<int64_t>(1, options_.verify_interval_us / q), [this] {
    verify_timer_ = 0;
    const uint32_t q = service_->ring().partitions();
    if (q > 0) trees_->Rebuild(next_verify_++ % q);
    ScheduleVerify();
  });
}

void AntiEntropy::ExchangeNow(uint32_t partition, const NodeId& peer,
                              std::function<void(AaeExchangeReply)> done) {
  AaeExchangeReply reply;
  if (!options_.enabled || stopped_) {
    reply.status = Status::Unavailable("anti-entropy is off on this node");
  } else if (!IsPrimary(partition)) {
    reply.status = Status::InvalidArgument("this node is not a replica of partition " +
                                           std::to_string(partition));
  }
  // A request that could never run is refused as such whatever else is
  // running, so the answer does not depend on the background schedule.
  std::vector<NodeId> peers = PeersOf(partition);
  if (reply.status.ok() && !peer.empty() &&
      std::find(peers.begin(), peers.end(), peer) == peers.end()) {
    reply.status = Status::InvalidArgument(peer + " is not another replica of partition " +
                                           std::to_string(partition));
  }
  if (reply.status.ok() && peers.empty()) {
    reply.status = Status::InvalidArgument("partition has no other replica");
  }
  if (!reply.status.ok()) return done(std::move(reply));
  if (exchange_) {
    reply.status = Status::Busy("an exchange is running (partition " +
                                std::to_string(exchange_->partition()) + " with " +
                                exchange_->peer() + ")");
  } else if (reap_) {
    reply.status = Status::Busy("a reaping round is running (partition " +
                                std::to_string(reap_->partition()) + ")");
  } else if (pass_) {
    reply.status = Status::Busy("a reaping pass is running");
  }
  if (!reply.status.ok()) return done(std::move(reply));
  Run(partition, peer.empty() ? peers[partitions_[partition].next_peer++ % peers.size()] : peer,
      std::move(done));
}

bool AntiEntropy::ReapDue(uint32_t partition) const {
  if (!IsPrimary(partition)) return false;
  const PartitionState& state = partitions_[partition];
  // A round that stopped part way through the index goes on at once.
  if (!state.reap_cursor.empty()) return true;
  const std::vector<NodeId> peers = PeersOf(partition);
  if (peers.empty()) return false;
  // A round would stop at a member it cannot ask (ReapRound).
  for (const NodeId& n : service_->ring().members()) {
    if (n != service_->options().self && !service_->liveness().IsUp(n)) return false;
  }
  for (const NodeId& peer : peers) {
    auto it = last_clean_.find({partition, peer});
    if (it == last_clean_.end() || it->second <= state.last_reap_us) return false;
  }
  return true;
}

void AntiEntropy::ReapNow(uint32_t partition, std::function<void(ReapResult)> done) {
  ReapResult busy;
  if (!options_.enabled || stopped_) {
    busy.status = Status::Unavailable("anti-entropy is off on this node");
  } else if (!IsPrimary(partition)) {
    busy.status = Status::InvalidArgument("this node is not a replica of partition " +
                                          std::to_string(partition));
  } else if (exchanging()) {
    busy.status = Status::Busy("an exchange or reaping round is running");
  }
  if (!busy.status.ok()) return done(std::move(busy));
  RunReap(partition, std::move(done));
}

void AntiEntropy::Reaped(uint32_t partition, uint64_t n) {
  if (partition >= partitions_.size()) return;
  PartitionState& state = partitions_[partition];
  state.tombstones_reaped += n;
  state.tombstones_pending -= std::min(n, state.tombstones_pending);
}

void AntiEntropy::PassNow(const AaeReapNowRequest& request,
                          std::function<void(AaeReapNowReply)> done) {
  AaeReapNowReply reply;
  reply.node = service_->options().self;
  if (!options_.enabled || stopped_) {
    reply.status = Status::Unavailable("anti-entropy is off on this node");
  } else if (!request.all && !IsPrimary(request.partition)) {
    reply.status = Status::InvalidArgument("this node is not a replica of partition " +
                                           std::to_string(request.partition));
  } else if (exchanging()) {
    reply.status = Status::Busy("an exchange or reaping round is running");
  }
  if (!reply.status.ok()) return done(std::move(reply));
  pass_ = std::make_unique<ForcedPass>();
  if (request.all) {
    for (uint32_t p = 0; p < service_->ring().partitions(); ++p) {
      if (IsPrimary(p)) pass_->partitions.push_back(p);
    }
  } else {
    pass_->partitions.push_back(request.partition);
  }
  pass_->reply = std::move(reply);
  pass_->done = std::move(done);
  PassStep();
}

void AntiEntropy::PassStep() {
  ForcedPass& pass = *pass_;
  const bool first = pass.reply.passes.size() == pass.next;
  if (pass.next == pass.partitions.size()) {
    AaeReapNowReply reply = std::move(pass.reply);
    auto done = std::move(pass.done);
    pass_.reset();
    return done(std::move(reply));
  }
  const uint32_t p = pass.partitions[pass.next];
  if (first) {
    // From the index's first key, whatever a scheduled pass had done.
    partitions_[p].reap_cursor.clear();
    partitions_[p].pass_left = 0;
    pass.reply.passes.push_back(AaeReapPass{p});
  }
  RunReap(p, [this](ReapResult r) {
    if (pass_ == nullptr) return;
    AaeReapPass& out = pass_->reply.passes.back();
    ++out.rounds;
    out.checked += r.candidates;
    out.reaped_here += r.reaped_here;
    out.reaped_peers += r.reaped_peers;
    out.kept_hint_here += r.kept_hint_here;
    out.kept_replica += r.kept_replica;
    out.kept_hint_elsewhere += r.kept_hint_elsewhere;
    out.kept_changed += r.kept_changed;
    out.status = r.status;
    if (!r.status.ok() || r.next_cursor.empty()) ++pass_->next;
    PassStep();
  });
}

void AntiEntropy::RunReap(uint32_t partition, std::function<void(ReapResult)> done) {
  const int64_t started = clock_->WallMicros();
  reap_ = std::make_unique<ReapRound>(
      MakeReapEnv(), partition, PeersOf(partition), OthersOf(partition),
      partitions_[partition].reap_cursor,
      options_.step_timeout_us,
      [this, alive = alive_, partition, started, done = std::move(done)](ReapResult r) mutable {
        scheduler_->RunAfter(0, [this, alive, partition, started, r = std::move(r),
                                 done = std::move(done)]() mutable {
          if (!*alive) return;
          reap_.reset();
          reap_rounds_->Increment();
          Reaped(partition, r.reaped_here);
          PartitionState& state = partitions_[partition];
          if (r.status.ok()) {
            state.reap_cursor = r.next_cursor;
            state.pass_left += r.candidates - r.reaped_here;
            if (r.next_cursor.empty()) {
              state.last_reap_us = started;
              state.tombstones_pending = state.pass_left;
              state.pass_left = 0;
              state.pass_ended_us = clock_->WallMicros();
            }
          } else {
            // Start over after the next clean exchanges with every peer.
            state.reap_cursor.clear();
            state.pass_left = 0;
            state.last_reap_us = started;
          }
          if (done) done(std::move(r));
        });
      });
  reap_->Start();
}

void AntiEntropy::Run(uint32_t partition, const NodeId& peer,
                      std::function<void(AaeExchangeReply)> done) {
  const int64_t started = clock_->WallMicros();
  ExchangeEnv env{&service_->rpc(), trees_.get(), &service_->replica(), &service_->membership(),
                  clock_, scheduler_, &objects_, &bytes_};
  exchange_ = std::make_unique<Exchange>(
      env, LimitsOf(options_), partition, peer,
      [this, alive = alive_, started, done = std::move(done)](ExchangeResult result) mutable {
        // Not from inside the exchange's own call stack: this destroys it.
        scheduler_->RunAfter(0, [this, alive, result = std::move(result), started,
                                 done = std::move(done)]() mutable {
          if (*alive) Finished(std::move(result), started, std::move(done));
        });
      });
  exchange_->Start();
}

void AntiEntropy::Finished(ExchangeResult result, int64_t started_wall_us,
                           std::function<void(AaeExchangeReply)> done) {
  const uint32_t p = exchange_->partition();
  const NodeId peer = exchange_->peer();
  exchange_.reset();
  PartitionState& state = partitions_[p];
  state.last_exchange_us = started_wall_us;
  state.last_peer = peer;
  state.keys_repaired += result.keys_repaired;
  state.bytes_sent += result.bytes;
  segments_differing_->Add(result.segments_differing);
  keys_differing_->Add(result.keys_differing);
  keys_repaired_->Add(result.keys_repaired);
  repair_failures_->Add(result.repair_failures);
  repair_bytes_->Add(result.bytes_repair);
  ResultLabel label = kError;
  if (!result.status.ok()) {
    state.last_result = "error: " + result.status.ToString();
  } else if (result.keys_differing == 0) {
    label = kEqual;
    state.last_result = "equal";
  } else {
    label = result.repair_failures == 0 ? kRepaired : kUnrepaired;
    state.last_result = "repaired " + std::to_string(result.keys_repaired) + " of " +
                        std::to_string(result.keys_differing) + " keys";
  }
  exchanges_[label]->Increment();
  if (result.clean()) last_clean_[{p, peer}] = started_wall_us;
  if (done) {
    AaeExchangeReply reply;
    reply.status = result.status;
    reply.peer = peer;
    reply.segments_differing = result.segments_differing;
    reply.keys_differing = result.keys_differing;
    reply.keys_repaired = result.keys_repaired;
    reply.bytes = result.bytes;
    done(std::move(reply));
  }
}

AaeStatusReply AntiEntropy::StatusReport(bool verify) {
  AaeStatusReply reply;
  reply.node = service_->options().self;
  reply.enabled = options_.enabled;
  if (!options_.enabled) return reply;
  for (uint32_t p = 0; p < trees_->partitions(); ++p) {
    if (!IsPrimary(p)) continue;
    AaePartitionStatus s;
    s.partition = p;
    s.state = trees_->trusted(p) ? "trusted" : "building";
    const HashTree* tree = trees_->Current(p);
    s.root = tree != nullptr ? tree->top() : 0;
    if (verify) {
      Result<HashTree> fresh = trees_->Recompute(p);
      if (fresh.ok()) {
        s.verified = true;
        s.recomputed = fresh->top();
      }
    }
    const PartitionState& st = partitions_[p];
    s.last_exchange_us = st.last_exchange_us;
    s.last_peer = st.last_peer;
    s.last_result = st.last_result;
    s.keys_repaired = st.keys_repaired;
    s.bytes_sent = st.bytes_sent;
    s.tombstones_pending = st.tombstones_pending;
    s.tombstones_reaped = st.tombstones_reaped;
    s.last_reap_us = st.pass_ended_us;
    reply.partitions.push_back(std::move(s));
  }
  return reply;
}

void AntiEntropy::HandleAdmin(MessageBody& body, int64_t, PeerRpc::Respond respond) {
  if (auto* status = std::get_if<AaeStatusRequest>(&body)) {
    respond(StatusReport(status->verify));
  } else if (auto* exchange = std::get_if<AaeExchangeRequest>(&body)) {
    ExchangeNow(exchange->partition, exchange->peer,
                [respond = std::move(respond)](AaeExchangeReply r) { respond(std::move(r)); });
  } else if (auto* reap = std::get_if<AaeReapNowRequest>(&body)) {
    PassNow(*reap, [respond = std::move(respond)](AaeReapNowReply r) { respond(std::move(r)); });
  } else {
    respond(ErrorReply{Status::InvalidArgument("not a client request")});
  }
}

}  // namespace ringkv::aae
