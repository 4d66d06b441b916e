#include "node/node.h"

#include <algorithm>
#include <utility>

#include "node/incarnation.h"
#include "storage/keys.h"
#include "storage/meta.h"

namespace ringkv {

Result<std::unique_ptr<Node>> Node::Open(NodeConfig config, Ring ring, NodeEnv env) {
  std::unique_ptr<Node> node(new Node(std::move(env)));
  const NodeEnv& e = node->env_;
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
  node->service_ = std::make_unique<Service>(
      std::move(options), std::move(ring),
      ServiceEnv{e.clock, e.scheduler, e.transport, store, e.random, /*liveness=*/nullptr,
                 e.reachability, node->metrics_});
  node->aae_ = std::make_unique<aae::AntiEntropy>(std::move(config.aae), node->service_.get(), store,
                                                  e.clock, e.scheduler, e.random, node->metrics_);
  return node;
}

// Anti-entropy first (it hooks the service), then the service: it holds the
// cache and the registry's handles.
Node::~Node() {
  aae_.reset();
  service_.reset();
}

Status Node::Start() {
  RINGKV_RETURN_IF_ERROR(service_->Start());
  return aae_->Start();
}

Status Node::Shutdown() { return aae_->Stop(); }

}  // namespace ringkv
