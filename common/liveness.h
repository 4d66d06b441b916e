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

}  // namespace ringkv
