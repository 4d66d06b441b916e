#include "tests/sim/sim_cluster.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "causality/object_codec.h"
#include "common/hash.h"
#include "proto/codec.h"
#include "storage/keys.h"
#include "storage/record.h"

namespace ringkv::sim {
namespace {

std::string NodeName(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "n%03d", i);
  return buf;
}

int64_t Spread(Random& r, int64_t max) {
  if (max <= 0) return 0;
  return static_cast<int64_t>(r.Uniform(2 * static_cast<uint64_t>(max) + 1)) - max;
}

}  // namespace

SimCluster::SimCluster(SimWorld* world, ClusterOptions options)
    : world_(world), options_(std::move(options)) {
  for (int i = 0; i < options_.nodes; ++i) ids_.push_back(NodeName(i));
  const int in_ring = options_.ring_members > 0 ? options_.ring_members : options_.nodes;
  auto ring = Ring::Create({ids_.begin(), ids_.begin() + in_ring}, options_.partitions,
                           options_.ring_n);
  if (!ring.ok()) {
    std::fprintf(stderr, "sim: bad ring: %s\n", ring.status().ToString().c_str());
    std::abort();
  }
  ring_.emplace(std::move(ring).value());
  start_ring_ = ring_;
  std::vector<SimProcess*> procs;
  for (int i = 0; i < options_.nodes; ++i) {
    auto n = std::make_unique<Node>();
    n->process = std::make_unique<SimProcess>(world_, i);
    n->clock = std::make_unique<SimClock>(&world_->queue(),
                                          Spread(world_->random(), options_.max_clock_offset_us),
                                          Spread(world_->random(), options_.max_drift_ppm));
    n->scheduler = std::make_unique<SimScheduler>(n->process.get(), n->clock.get());
    n->scheduler->set_lose_timers(options_.lose_timers);
    n->random = std::make_unique<Random>(world_->DeriveSeed());
    n->engine = std::make_unique<MemoryStorage>();
    n->disk = std::make_unique<SimDisk>(n->engine.get(), n->process.get(), n->random.get());
    procs.push_back(n->process.get());
    nodes_.push_back(std::move(n));
  }
  network_ = std::make_unique<SimNetwork>(world_, procs, ids_, options_.link);
  network_->set_deliver(
      [this](int from, int to, std::string bytes) { Deliver(from, to, std::move(bytes)); });
  for (int i = 0; i < options_.nodes; ++i) {
    if (options_.wrap_transport) {
      nodes_[i]->wrapped = options_.wrap_transport(i, network_->transport(i), this);
    }
    if (i >= options_.nodes - options_.joiners) {
      nodes_[i]->present = false;
      nodes_[i]->process->Kill();
      continue;
    }
    StartService(i);
  }
}

SimCluster::~SimCluster() {
  // Services first: they cancel timers on schedulers the nodes own.
  for (auto& n : nodes_) n->node.reset();
}

uint64_t SimCluster::NewIncarnation() {
  uint64_t inc = 0;
  while (inc == 0) inc = world_->random().Next();
  return inc;
}

void SimCluster::StartService(int i) {
  Node& n = *nodes_[i];
  NodeConfig config;
  ServiceOptions& so = config.service;
  so.self = ids_[i];
  so.buckets = options_.buckets;
  so.default_timeout_ms = options_.default_timeout_ms;
  so.sync_writes = options_.sync_writes;
  so.failure_detection = options_.failure_detection;
  so.gossip = options_.gossip;
  so.hint_rate_per_sec = options_.hint_rate_per_sec;
  so.deliver_hints = options_.deliver_hints;
  config.object_cache_bytes = options_.object_cache_bytes;
  config.generation_floor = n.generation + 1;
  config.aae = options_.aae;
  config.ring_state = n.joined;
  config.ring_changes = options_.ring_changes;
  // What ringkv-node logs of ring changes goes to the trace (--trace).
  config.ring_changes.warn = [this, i](const std::string& line) {
    world_->trace().Note(world_->now(), "ring-warn", i, line);
  };
  config.ring_changes.info = [this, i](const std::string& line) {
    world_->trace().Note(world_->now(), "ring-info", i, line);
  };
  NodeEnv env;
  env.clock = n.clock.get();
  env.scheduler = n.scheduler.get();
  env.transport = n.wrapped ? n.wrapped.get() : network_->transport(i);
  env.engine = n.disk.get();
  env.random = n.random.get();
  // Seeded, so that runs replay; the planted kv679 mistake hands a wiped
  // node its old incarnation back.
  const bool reuse = options_.reuse_incarnation_after_wipe && n.incarnation != 0;
  env.fresh_incarnation = [this, reuse, old = n.incarnation] {
    return reuse ? old : NewIncarnation();
  };
  Result<std::unique_ptr<ringkv::Node>> node =
      ringkv::Node::Open(std::move(config), *start_ring_, env);
  Status st = node.ok() ? (*node)->Start() : node.status();
  if (node.ok()) {
    n.node = std::move(node).value();
    n.incarnation = n.node->incarnation();
    n.generation = n.node->generation();
  }
  if (!st.ok()) {
    world_->trace().Note(world_->now(), "start-failed", i, st.ToString());
    start_failures_.push_back(ids_[i] + ": " + st.ToString());
  }
}

void SimCluster::PublishRing(Ring next) {
  ring_.emplace(std::move(next));
  start_ring_ = ring_;
  for (auto& n : nodes_) {
    if (n->node) n->node->service().membership().Publish(*ring_, {});
  }
}

void SimCluster::Deliver(int from, int to, std::string bytes) {
  auto m = DecodeMessage(bytes);
  if (!m.ok()) {
    ++decode_errors_;
    world_->trace().Note(world_->now(), "decode-error", to, m.status().ToString());
    return;
  }
  if (Service* s = service(to)) s->OnPeerMessage(std::move(m).value());
}

void SimCluster::Kill(int i, bool power_loss) {
  Node& n = *nodes_[i];
  if (!n.node) return;
  ++n.disturbances;
  n.node.reset();
  n.process->Kill();
  if (power_loss) n.engine->DropUnsynced();
  n.kills.push_back(world_->now());
  world_->trace().Record(world_->now(), power_loss ? "power-loss" : "crash", i, 0);
  if (lifecycle_) lifecycle_(i, true);
}

void SimCluster::Restart(int i) {
  Node& n = *nodes_[i];
  if (n.node || !n.present) return;
  Boot(i, "restart");
}

void SimCluster::Boot(int i, std::string_view event) {
  nodes_[i]->process->Start();
  StartService(i);
  world_->trace().Record(world_->now(), event, i, nodes_[i]->incarnation);
  if (lifecycle_) lifecycle_(i, false);
}

void SimCluster::Wipe(int i) {
  Node& n = *nodes_[i];
  if (n.node) return;
  n.engine = std::make_unique<MemoryStorage>();
  n.disk = std::make_unique<SimDisk>(n.engine.get(), n.process.get(), n.random.get());
  n.disk->faults() = n.faults;
  world_->trace().Record(world_->now(), "wipe", i, 0);
}

void SimCluster::Pause(int i) {
  if (!up(i)) return;
  ++nodes_[i]->disturbances;
  bool was_paused = paused(i);
  nodes_[i]->process->Pause();
  if (!was_paused && lifecycle_) lifecycle_(i, true);
}

void SimCluster::Resume(int i) {
  if (!nodes_[i]->present) return;
  ++nodes_[i]->disturbances;
  bool was_paused = paused(i);
  nodes_[i]->process->Resume();
  if (was_paused && lifecycle_) lifecycle_(i, false);
}

void SimCluster::StartJoined(int i, RingState state) {
  Node& n = *nodes_[i];
  if (n.present) return;
  n.present = true;
  n.joined = std::move(state);
  Boot(i, "join-start");
}

void SimCluster::Retire(int i) {
  Node& n = *nodes_[i];
  if (!n.present) return;
  const bool was_up = n.node != nullptr;
  ++n.disturbances;
  n.node.reset();
  n.process->Kill();
  n.present = false;
  n.kills.push_back(world_->now());
  world_->trace().Record(world_->now(), "retire", i, 0);
  if (was_up && lifecycle_) lifecycle_(i, true);
}

bool SimCluster::KilledDuring(int i, int64_t from_us, int64_t to_us) const {
  for (int64_t t : nodes_[i]->kills) {
    if (t >= from_us && t <= to_us) return true;
  }
  return false;
}

void SimCluster::SetDiskFaults(int i, const DiskFaults& faults) {
  Node& n = *nodes_[i];
  if (faults.write_latency_us > 0 || faults.sync_latency_us > 0) ++n.disturbances;
  n.faults = faults;
  n.disk->faults() = faults;
  world_->trace().Record(world_->now(), "disk-faults", i,
                         (faults.full ? 1 : 0) | (faults.write_latency_us > 0 ? 2 : 0));
}

void SimCluster::ClientCall(int i, Message request, std::function<void(Message)> reply) {
  nodes_[i]->process->Post(0, "client", request.request_id,
                           [this, i, request = std::move(request),
                            reply = std::move(reply)]() mutable {
                             if (Service* s = service(i)) {
                               s->HandleClientRequest(std::move(request), std::move(reply));
                             }
                           });
}

Result<std::optional<Object>> SimCluster::ReadStored(int i, const std::string& bucket,
                                                     const std::string& key) {
  uint32_t partition = ring_->PartitionOf(KeyHash(bucket, key));
  std::string value;
  Status st = nodes_[i]->engine->Get(ObjectKey(partition, bucket, key), &value);
  if (st.IsNotFound()) return std::optional<Object>();
  if (!st.ok()) return st;
  auto body = DecodeRecord(value);
  if (!body.ok()) return body.status();
  auto obj = DecodeObject(*body);
  if (!obj.ok()) return obj.status();
  return std::optional<Object>(std::move(obj).value());
}

Result<std::vector<StoredObject>> SimCluster::StoredObjects(int i) {
  IteratorOptions range;
  range.begin = std::string(1, kObjectTag);
  range.end = PrefixEnd(range.begin);
  std::unique_ptr<Iterator> it = nodes_[i]->engine->NewIterator(range);
  std::vector<StoredObject> out;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    StoredObject o;
    RINGKV_RETURN_IF_ERROR(ParseObjectKey(it->key(), &o.partition, &o.bucket, &o.key));
    o.record = std::string(it->value());
    out.push_back(std::move(o));
  }
  RINGKV_RETURN_IF_ERROR(it->status());
  return out;
}

int64_t SimCluster::MaxWallErrorUs() const {
  int64_t error = 0;
  for (const auto& n : nodes_) error = std::max(error, n->clock->MaxWallErrorUs(world_->now()));
  return error;
}

std::vector<int> SimCluster::Primaries(const std::string& bucket, const std::string& key) const {
  const BucketProps& props = options_.buckets.Get(bucket);
  std::vector<int> out;
  for (const NodeId& id : ring_->PlacementFor(KeyHash(bucket, key), props.n).primaries) {
    out.push_back(network_->IndexOf(id));
  }
  return out;
}

}  // namespace ringkv::sim
