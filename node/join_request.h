// The one request a node makes before its loop runs: `ringkv-node --join
// SEED` asks any member at SEED to stage this node's join
// (docs/ring-changes.md) and starts from the ring state it answers with.
// A blocking call on the client protocol, over TLS when the node runs with
// TLS: the new node is no member yet, so it cannot pass the peer
// handshake, and it presents no certificate (members cut off a node
// certificate that names no member); a cluster that requires client
// certificates (--tls-client-certs) is joined with `ringkv-admin ring
// join` instead.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "common/tls.h"
#include "common/transport.h"
#include "ring/ring_state.h"

namespace ringkv {

// The state after the claimant staged the join of `self` at `address`.
// Unavailable when SEED cannot be reached, fails the TLS handshake (`tls`
// not null: its CA must have signed SEED's certificate) or answers
// nothing by `timeout_ms`; the claimant's refusal otherwise.
Result<RingState> RequestJoin(const std::string& seed, const NodeId& self,
                              const std::string& address, const std::string& auth_token,
                              uint32_t timeout_ms, const TlsContext* tls);

}  // namespace ringkv
