// The one request a node makes before its loop runs: `ringkv-node --join
// SEED` asks any member at SEED to stage this node's join
// (docs/ring-changes.md) and starts from the ring state it answers with.
// A blocking call over plain TCP on the client protocol: the new node is
// no member yet, so it cannot pass the peer handshake. Clusters that serve
// clients only over TLS are joined with `ringkv-admin ring join` instead.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "common/transport.h"
#include "ring/ring_state.h"

namespace ringkv {

// The state after the claimant staged the join of `self` at `address`.
// Unavailable when SEED cannot be reached or answers nothing by
// `timeout_ms`; the claimant's refusal otherwise.
Result<RingState> RequestJoin(const std::string& seed, const NodeId& self,
                              const std::string& address, const std::string& auth_token,
                              uint32_t timeout_ms);

}  // namespace ringkv
