// NodeView: what one node reports of itself (Client::StatusOf), in the
// client's own terms, so that the public header carries no wire type. It
// holds what the node's status reply carries (docs/wire-protocol.md,
// statusReply), field for field.
#pragma once

#include <cstdint>
#include <vector>

#include "common/metrics.h"
#include "common/transport.h"

namespace ringkv {

// A peer as the node's failure detector sees it.
struct PeerView {
  NodeId node;
  bool up = false;
  double phi = 0;  // for a peer never heard from, grows from the node's start
  bool operator==(const PeerView&) const = default;
};

// Hints the node holds for a target it could not write to.
struct HintBacklog {
  NodeId target;
  uint64_t count = 0;
  bool operator==(const HintBacklog&) const = default;
};

struct NodeView {
  NodeId node;
  uint64_t incarnation = 0;
  uint64_t ring_epoch = 0;
  std::vector<PeerView> peers;
  std::vector<HintBacklog> hints;
  uint64_t hints_delivered = 0;
  uint64_t hint_write_failures = 0;
  std::vector<MetricSample> metrics;  // the node's registry (common/metrics.h)
  bool operator==(const NodeView&) const = default;
};

}  // namespace ringkv
