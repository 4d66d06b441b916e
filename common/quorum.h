// Quorum values as requests carry them (wire.capnp r, w, pr, pw) and their
// meaning against a bucket's n. Shared by the wire messages, the nodes'
// coordinator and the client library, whose public options take these values
// and whose own reads (ClientOptions::coordinate_reads) resolve a request's
// quorum as a node does; in common/ so that the client's public header needs
// nothing of the protocol to name them.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace ringkv {

// 0 = the bucket's default (for pr/pw: none), 1..n a count, and two names.
inline constexpr uint32_t kQuorumDefault = 0;
inline constexpr uint32_t kQuorumQuorum = 0xFFFFFFFEu;
inline constexpr uint32_t kQuorumAll = 0xFFFFFFFFu;

// Resolves a requested quorum value against n. `fallback` is used for
// kQuorumDefault. InvalidArgument when the result exceeds n.
Result<uint32_t> ResolveQuorum(uint32_t requested, uint32_t fallback, uint32_t n,
                               std::string_view what);

// Parses the text form of a quorum value, as the tools' --r/--w/--pr/--pw
// and bucket specs ("r=quorum") take it: a number, "one", "quorum", "all"
// or "default". Returns the wire value. One parser for both, so that a
// cluster file and a command line can never disagree on a quorum's name.
Result<uint32_t> ParseQuorumArg(std::string_view text);

}  // namespace ringkv
