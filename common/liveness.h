// Liveness: which nodes are believed up right now.
//
// Coordinators skip nodes believed down instead of waiting for their
// deadline, and hinted handoff delivers only to nodes believed up. The
// gossip failure detector (ring/gossip.h) implements it; tests may use
// AllUp. Single-threaded, on the owning loop.
#pragma once

#include <string>

#include "common/transport.h"

namespace ringkv {

class Liveness {
 public:
  virtual ~Liveness() = default;
  virtual bool IsUp(const NodeId& node) const = 0;
};

// Believes every node up: the behaviour without failure detection.
class AllUp final : public Liveness {
 public:
  bool IsUp(const NodeId&) const override { return true; }
};

// Up only when both sources say so (the failure detector and, in the real
// node, the transport's view of its connections).
class BothUp final : public Liveness {
 public:
  // Both must outlive this.
  BothUp(const Liveness* a, const Liveness* b) : a_(a), b_(b) {}
  bool IsUp(const NodeId& node) const override { return a_->IsUp(node) && b_->IsUp(node); }

 private:
  const Liveness* a_;
  const Liveness* b_;
};

}  // namespace ringkv
