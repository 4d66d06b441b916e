// The limits of what a request may carry, checked where it enters a node:
// a client's request (node/server.cc through Service::HandleClientRequest)
// and a peer's (PeerRpc::OnRequest), before any handler sees it. The
// object limits are causality/object_limits.h; every limit is listed in
// docs/limits.md. Checks that need the node's state (a quorum against the
// bucket's n, a context against the stored object, a hint's target against
// the ring) are replication/admission.h. Pure functions.
#pragma once

#include <cstddef>

#include "common/status.h"
#include "proto/messages.h"

namespace ringkv {

inline constexpr size_t kMaxBucketBytes = 255;
inline constexpr size_t kMaxKeyBytes = 64 * 1024;
// An encoded context holds one entry per actor that wrote the key; this
// allows thousands.
inline constexpr size_t kMaxContextBytes = 64 * 1024;

// InvalidArgument (or ObjectTooLarge for an object over
// kMaxMergedObjectBytes) describing the first field of a request out of
// bounds: bucket and key sizes, the value's, the context's, node ids, an
// object's limits (CheckObjectLimits). OK for messages that are not
// requests and for requests that carry nothing bounded.
Status ValidateRequest(const MessageBody& request);

// The answer to `request` that carries `status`: its own reply type where
// it has one with a status (GetReply for a get, ...), else an ErrorReply.
MessageBody Refusal(const MessageBody& request, Status status);

}  // namespace ringkv
