// RingPlacement: the checker of a ring change's end state ("ring-placement").
//
// After the change completed, the cluster healed and the repair pass ran,
// every object any node's engine holds (every bucket, every key, not only
// the history's) must be on exactly its key's final preference list (the
// primaries of the ring the cluster judges by, SimCluster::JudgeBy), held
// there byte-identically (canonical encodings), and nowhere else: a node
// that left holds nothing, an old owner deleted the partition it handed
// on. Departed nodes are read too: their engines outlive them.
#pragma once

#include <cstddef>

#include "tests/sim/checkers.h"
#include "tests/sim/sim_cluster.h"

namespace ringkv::sim {

CheckResult CheckRingPlacement(SimCluster& cluster);
// Objects held by a node outside their key's final preference list: what
// cleanups still have to delete.
size_t MisplacedObjects(SimCluster& cluster);

}  // namespace ringkv::sim
