#include "node/node.h"

#include <algorithm>
#include <utility>

#include "node/incarnation.h"
#include "storage/format_migration.h"
#include "storage/keys.h"
#include "storage/meta.h"

namespace ringkv {

Result<std::unique_ptr<Node>> Node::Open(NodeConfig config, Ring ring, NodeEnv env) {
  std::unique_ptr<Node> node(new Node(std::move(env)));
  const NodeEnv& e = node->env_;
  // On the engine, below the cache: the migration moves every record once.
  FormatMigrationOptions migration;
  migration.info = std::move(config.storage_info);
  RINGKV_RETURN_IF_ERROR(MigrateStorageFormat(e.engine, migration));
  // Every put reads its key before merging; a cached record skips the
  // engine's lookups (docs/performance.md).
  if (config.object_cache_bytes > 0) {
    node->cache_ = std::make_unique<CachedStorage>(e.engine, config.object_cache_bytes,
                                                   node->metrics_, std::string(1, kObjectTag));
  }
  Storage* store = &node->storage();
  Result<uint64_t> incarnation = e.fresh_incarnation ? InitMeta(store, e.fresh_incarnation())
                                                     : LoadOrCreateIncarnation(store);
  if (!incarnation.ok()) return incarnation.status();
  Result<uint64_t> generation =
      NextGeneration(store, static_cast<uint64_t>(e.clock->WallMicros() / 1'000'000));
  if (!generation.ok()) return generation.status();
  node->incarnation_ = *incarnation;
  node->generation_ = std::max(*generation, config.generation_floor);

  ServiceOptions options = std::move(config.service);
  options.incarnation = node->incarnation_;
  options.generation = node->generation_;
  RingState given;
  if (config.ring_state) {
    given = std::move(*config.ring_state);
  } else {
    given.epoch = ring.epoch();
    given.partitions = ring.partitions();
    given.n = ring.n();
    for (const NodeId& m : ring.members()) {
      auto it = options.addresses.find(m);
      given.members.push_back(
          {m, it == options.addresses.end() ? std::string() : it->second, MemberStatus::kValid});
    }
    for (uint32_t p = 0; p < ring.partitions(); ++p) given.owners.push_back(ring.Owner(p));
    given.buckets = BucketInfos(options.buckets);
  }
  Result<std::optional<RingState>> persisted = RingKeeper::Load(store);
  if (!persisted.ok()) return persisted.status();
  RingState state = RingKeeper::Choose(std::move(persisted).value(), std::move(given));
  if (Status st = ValidateState(state); !st.ok()) {
    return Status::InvalidArgument("ring state: " + st.message());
  }
  Result<Ring> placement = PlacementRing(state);
  if (!placement.ok()) return placement.status();
  // The ring's bucket properties, not the cluster file's: `ringkv-admin
  // bucket --set` may have changed them since, and a restart keeps that.
  if (!state.buckets.empty()) options.buckets.Assign(state.buckets);
  options.addresses.clear();
  for (const StateMember& m : state.members) options.addresses[m.id] = m.address;
  node->service_ = std::make_unique<Service>(
      std::move(options), std::move(placement).value(),
      ServiceEnv{e.clock, e.scheduler, e.transport, store, e.random, /*liveness=*/nullptr,
                 e.reachability, node->metrics_});
  node->aae_ = std::make_unique<aae::AntiEntropy>(std::move(config.aae), node->service_.get(), store,
                                                  e.clock, e.scheduler, e.random, node->metrics_);
  RingKeeperOptions keeper = std::move(config.ring_changes);
  aae::AntiEntropy* aae = node->aae_.get();
  keeper.catch_up = [aae](uint32_t partition, const NodeId& peer,
                          std::function<void(Status)> done) {
    if (!aae->enabled()) return done(Status::OK());
    aae->ExchangeNow(partition, peer, [done = std::move(done)](AaeExchangeReply reply) {
      done(reply.status);
    });
  };
  node->keeper_ = std::make_unique<RingKeeper>(std::move(keeper), std::move(state),
                                               node->service_.get(), store, e.clock,
                                               e.scheduler, node->metrics_);
  return node;
}

// The keeper and anti-entropy first (they hook the service), then the service: it holds the
// cache and the registry's handles.
Node::~Node() {
  keeper_.reset();
  aae_.reset();
  service_.reset();
}

Status Node::Start() {
  RINGKV_RETURN_IF_ERROR(service_->Start());
  RINGKV_RETURN_IF_ERROR(aae_->Start());
  // Last: it puts its client handler in front of anti-entropy's.
  return keeper_->Start();
}

Status Node::Shutdown() {
  // The trees saved next must include every write in storage, and no other.
  // A failed commit leaves its partitions' trees to rebuild, so they are
  // not saved as trusted.
  Status committed = service_->CommitWrites();
  Status saved = aae_->Stop();
  return committed.ok() ? saved : committed;
}

}  // namespace ringkv
