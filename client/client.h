// ringkv::Client: the C++ client library, the public face of ringkv.
//
// A Client talks the framed binary protocol (docs/wire-protocol.md) to the
// nodes it was given, over blocking TCP sockets: one connection per node,
// opened when first needed and reopened after a failure. Any node accepts any request
// and coordinates it; when a node cannot be reached the request moves on to
// the next one in the list (within the same deadline). A write whose
// connection broke after it was sent may so be applied twice, which leaves
// at worst one more sibling holding the same value.
//
// Every request has a deadline (ReadOptions/WriteOptions timeout_ms, or the
// client's default), counted from the call and covering all of it:
// connecting, sending, receiving, moving on to other nodes, the ring fetch of
// a client-coordinated read, and the read that a Delete without a context
// does first. The node is told the time left when the request leaves, and
// answers by then (with Timeout or Unavailable if the quorum was not
// reached); the client waits kReplyGrace (200 ms) longer for that answer to
// travel, because it says more than a bare timeout would, then gives up with
// Timeout. So no call lasts longer than its timeout plus kReplyGrace: neither
// a paused (SIGSTOPped) node, which accepts connections and never answers,
// nor an address that swallows connection requests can hold it longer. When
// several nodes are given, a connect gets at most an equal share of the time
// left among the nodes not yet tried, so one unreachable node cannot use up
// the time of those after it.
//
// Circuit breaking (client/circuit_breaker.h): a node that keeps failing
// (ClientOptions::breaker.failure_threshold consecutive connection failures
// or unanswered requests) is skipped for a back-off period that doubles, up
// to a cap, each time a retry after it fails; requests go to the other nodes
// meanwhile. When every node is being avoided a request fails at once with
// Unavailable.
//
// Errors are Status values: InvalidArgument (bad options or context),
// Unavailable (quorum not reached, or no node reachable), Timeout (deadline
// passed), Corruption (a malformed reply), Internal. A missing key is not an
// error: Get answers found = false.
//
// Client-coordinated reads (ClientOptions::coordinate_reads, off by
// default): the client asks a node once for the ring (RingRequest ->
// RingInfo: members with addresses, partitions, n, bucket properties),
// builds the same Ring the nodes use (Ring::Create is deterministic), and
// reads a key by sending ReplicaGetRequest to all of the key's N primaries
// at once and waiting in one poll() until R of them answered (a Get then
// costs one round trip instead of two). The answers are merged with Sync
// (and ResolveLww for lww buckets) exactly as a coordinating node would.
// R and PR come from ReadOptions or the bucket's defaults; every answer
// comes from a primary, so PR is met whenever max(R, PR) answered. Fewer by
// the deadline: Unavailable "1 of 2 required replicas answered". When the
// answers differ (a replica lacks the object or holds another version) the
// client asks one node for a normal Get at r=all, whose coordinator repairs
// the stale replicas, and does not wait for its answer (the reply is later
// skipped on that connection by request id): the read's latency stays one
// round trip, and repair is best effort, as a node's own read repair is.
// The ring is fetched again after any replica could not be reached; when it
// cannot be fetched at all the Get fails (Unavailable). Writes are sent to a
// node as usual.
//
// Thread-safety: a Client is not thread-safe; use one per thread (or lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/circuit_breaker.h"
#include "client/node_view.h"
#include "client/ring_view.h"
#include "common/quorum.h"
#include "common/status.h"

namespace ringkv {

struct ClientOptions {
  // "host:port" of the nodes to talk to, in order of preference.
  std::vector<std::string> nodes;
  // Deadline of a request whose options leave timeout_ms at 0.
  uint32_t timeout_ms = 5000;
  // When to stop sending to a failing node, and for how long (one breaker
  // per node).
  CircuitBreakerOptions breaker;
  // Get sends to the key's replicas and merges their answers itself (see
  // above) instead of asking a node to coordinate.
  bool coordinate_reads = false;
  // TLS (docs/security.md): with a CA file, every connection is TLS 1.3 and
  // a node's certificate must come from that CA. `cert` and `key`, both or
  // neither, present a client certificate (nodes started with
  // --tls-client-certs require one). Bad files fail Create and Connect
  // with InvalidArgument.
  struct Tls {
    std::string ca;
    std::string cert;
    std::string key;
  } tls;
  // Bearer token sent with every request, for nodes that authenticate
  // clients (ringkv-admin token create); empty: none. Refusals come back as
  // Unauthenticated or Forbidden.
  std::string token;
};

// Quorum fields take the values of common/quorum.h: kQuorumDefault (the
// bucket's default; for pr/pw: none), a count 1..n, kQuorumQuorum or
// kQuorumAll. common/quorum.h ParseQuorumArg turns text into them.
struct ReadOptions {
  uint32_t r = kQuorumDefault;
  uint32_t pr = kQuorumDefault;
  uint32_t timeout_ms = 0;  // 0 = the client's default
};

struct WriteOptions {
  uint32_t w = kQuorumDefault;
  uint32_t pw = kQuorumDefault;
  uint32_t timeout_ms = 0;  // 0 = the client's default
  // The opaque context of an earlier Get (GetResult::context); empty = a
  // blind write, which becomes a sibling of whatever is stored.
  std::string context;
  // A conditional put: written only if the context covers every value the
  // key holds (none would be left beside the new one), otherwise refused
  // with PreconditionFailed and nothing written. Without a context it
  // succeeds only on a key that holds nothing. Checked on the copy of the
  // key's owner (its first live primary), where every conditional put of
  // the key is checked in turn; best effort while ownership moves (a node
  // failing): a concurrent write may then still land as a sibling, and
  // none is ever lost.
  bool if_match = false;
};

struct GetResult {
  // False when no replica holds a value (never written, or deleted).
  bool found = false;
  // The sibling values (tombstones left out), in canonical order.
  std::vector<std::string> values;
  // Opaque causal context; pass it back in WriteOptions::context to replace
  // exactly the siblings read. Returned for deleted keys too.
  std::string context;
};

struct PutResult {
  // The context after the write: it covers the value just written.
  std::string context;
  // Values the key held where the write was coordinated, after it: more
  // than 1 when a write the context did not cover is stored beside it.
  uint32_t values = 0;
};

// A resolver the application gives (as Voldemort's): the sibling values of
// a read, in canonical order, made into the one value to keep. It must not
// depend on the order of its argument.
using SiblingResolver = std::function<std::string(const std::vector<std::string>& values)>;
// A change: the key's values as read (empty when not found; several when
// it has siblings) to the value to write.
using UpdateFn = std::function<std::string(const std::vector<std::string>& current)>;

struct UpdateOptions {
  ReadOptions read;
  // Its context is ignored: each write carries the context of its read.
  WriteOptions write;
  // Conditional writes refused because the key changed before giving up
  // (Busy, nothing written), and as many rounds of resolving a sibling left
  // while the key's owner failed over.
  uint32_t max_attempts = 16;
};

// How much longer than a request's deadline the client waits for the node's
// own answer to arrive.
inline constexpr std::chrono::milliseconds kReplyGrace{200};

class Client {
 public:
  // Checks the options (InvalidArgument on an empty list or a malformed
  // address) and opens a connection to the first node that accepts one
  // within options.timeout_ms in all (Unavailable when none does).
  static Result<std::unique_ptr<Client>> Connect(ClientOptions options);
  // Checks the options as Connect does but connects to nothing: the first
  // request connects, within its own deadline. For a caller whose timeout
  // must bound everything it does, as the CLI's --timeout does.
  static Result<std::unique_ptr<Client>> Create(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Result<GetResult> Get(std::string_view bucket, std::string_view key,
                        const ReadOptions& options = {});
  Result<PutResult> Put(std::string_view bucket, std::string_view key, std::string_view value,
                        const WriteOptions& options = {});
  // Writes a tombstone covering options.context; the key then reads as not
  // found. Without a context it first reads the key (at the bucket's default
  // r; the read and the write share options.timeout_ms) and deletes what
  // that read saw, as Riak does; a write concurrent with the delete survives
  // as a sibling.
  Result<PutResult> Delete(std::string_view bucket, std::string_view key,
                           const WriteOptions& options = {});
  // Get, then, when the key has siblings, `resolve` them into one value and
  // write it back with the read's context, so later reads see one value.
  // The result holds the one value and the context after the write.
  Result<GetResult> GetResolved(std::string_view bucket, std::string_view key,
                                const SiblingResolver& resolve, const ReadOptions& read = {},
                                const WriteOptions& write = {});
  // Read, apply `fn`, write with the read's context as a conditional put
  // (WriteOptions::if_match): when the key changed since the read, nothing
  // is written and it starts again after a pause (1 ms doubling up to
  // 64 ms, jittered), up to options.max_attempts times (then Busy, nothing
  // written). So concurrent Updates of a key apply one after another and
  // leave no siblings. A write that still lands beside a concurrent one
  // (the key's owner failing over, or a node without conditional puts) is
  // settled by resolving: read again, `resolve` the values (fn is not
  // applied again: its write is among them), write with that context;
  // repeated while changes keep coming, up to options.max_attempts rounds
  // (then Busy; nothing written is lost, it is a sibling).
  Result<PutResult> Update(std::string_view bucket, std::string_view key, const UpdateFn& fn,
                           const SiblingResolver& resolve, const UpdateOptions& options = {});
  // Asks a node to answer; returns its node id.
  Result<std::string> Ping(uint32_t timeout_ms = 0);
  // Asks the node at `address` (one of ClientOptions::nodes, else
  // InvalidArgument) and only that one for its view: peers up or down with
  // phi, pending hints per target, hints delivered. A direct question: it is
  // sent even while that node's breaker is open, and its outcome counts.
  Result<NodeView> StatusOf(const std::string& address, uint32_t timeout_ms = 0);
  // Asks the node at `address` (as StatusOf) for its ring: owners,
  // partitions per member, violations.
  Result<RingView> RingOf(const std::string& address, uint32_t timeout_ms = 0);

  // The breaker of the node at `address`; null when it is not in the list.
  const CircuitBreaker* breaker(const std::string& address) const;

  // The node that answered the last request (empty before the first).
  const std::string& last_node() const;

 private:
  // The connections, breakers and the ring of client-coordinated reads,
  // with the wire messages they speak, all in client/client.cc: the header
  // shows no protocol type.
  class Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringkv
