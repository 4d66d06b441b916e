// Plain C++ forms of the wire messages in proto/wire.capnp. Protocol code
// builds and reads these; proto/codec.h turns them into Cap'n Proto bytes and
// back. Values, freely copyable.
#pragma once

#include <cstdint>
#include <iterator>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "causality/object.h"
#include "common/metrics.h"
#include "common/status.h"
#include "common/transport.h"
#include "common/quorum.h"

namespace ringkv {

struct Ping {
  bool operator==(const Ping&) const = default;
};
struct Pong {
  std::string node;
  bool operator==(const Pong&) const = default;
};

struct GetRequest {
  std::string bucket, key;
  uint32_t r = kQuorumDefault, pr = kQuorumDefault;
  bool operator==(const GetRequest&) const = default;
};
struct GetReply {
  Status status;
  bool found = false;
  Object object;
  bool operator==(const GetReply&) const = default;
};

struct PutRequest {
  std::string bucket, key, value;
  bool tombstone = false;
  std::string context;  // encoded Context; empty = blind write
  uint32_t w = kQuorumDefault, pw = kQuorumDefault;
  bool forwarded = false;
  // Minted where the request entered the cluster (0 = not yet); ignored
  // when a client sets them.
  int64_t timestamp_us = 0;
  WriteId write_id;
  // Conditional put: refused (PreconditionFailed) unless the context covers
  // every sibling the coordinator holds; see wire.capnp.
  bool if_match = false;
  bool operator==(const PutRequest&) const = default;
};
struct PutReply {
  Status status;
  Object object;
  bool operator==(const PutReply&) const = default;
};

struct ReplicaGetRequest {
  std::string bucket, key;
  bool operator==(const ReplicaGetRequest&) const = default;
};
struct ReplicaGetReply {
  Status status;
  bool found = false;
  Object object;
  bool operator==(const ReplicaGetReply&) const = default;
};

struct ReplicaPutRequest {
  std::string bucket, key;
  Object object;
  NodeId hint_for;  // non-empty: the receiver is a fallback holding a hint
  bool handoff = false;  // a hint handed back to its owner
  bool operator==(const ReplicaPutRequest&) const = default;
};
struct ReplicaPutReply {
  Status status;
  bool operator==(const ReplicaPutReply&) const = default;
};

struct ErrorReply {
  Status status;
  bool operator==(const ErrorReply&) const = default;
};

struct Heartbeat {
  NodeId node;
  uint64_t generation = 0;
  uint64_t version = 0;
  uint64_t ring_epoch = 0;  // the node's, when it made this beat
  bool operator==(const Heartbeat&) const = default;
};
struct Gossip {
  uint64_t ring_epoch = 0;
  std::vector<Heartbeat> heartbeats;
  std::string ring_state;  // the sender's ring state record; may be empty
  bool operator==(const Gossip&) const = default;
};

struct StatusRequest {
  bool operator==(const StatusRequest&) const = default;
};
struct PeerState {
  NodeId node;
  bool up = false;
  double phi = 0;
  bool operator==(const PeerState&) const = default;
};
struct HintCount {
  NodeId target;
  uint64_t count = 0;
  bool operator==(const HintCount&) const = default;
};
struct NodeStatus {
  NodeId node;
  uint64_t incarnation = 0;
  std::vector<PeerState> peers;
  std::vector<HintCount> hints;
  uint64_t hints_delivered = 0;
  uint64_t ring_epoch = 0;
  uint64_t hint_write_failures = 0;
  std::vector<MetricSample> metrics;  // the node's registry (common/metrics.h)
  bool operator==(const NodeStatus&) const = default;
};

struct RingRequest {
  bool operator==(const RingRequest&) const = default;
};
struct RingMember {
  NodeId id;
  std::string address;
  bool operator==(const RingMember&) const = default;
};
struct BucketInfo {
  std::string name;  // empty for the defaults
  uint32_t n = 0, r = 0, w = 0;
  std::string resolver = "siblings";  // a resolver's name (causality/resolver.h)
  // The sibling caps and a merge plugin's pins, as BucketProps
  // (replication/bucket.h) has them, with its defaults.
  uint32_t max_siblings = 100, warn_siblings = 25;
  uint32_t plugin_version = 0;
  std::string plugin_hash;
  bool operator==(const BucketInfo&) const = default;
};
struct RingInfo {
  uint64_t epoch = 0;
  uint32_t partitions = 0;
  uint32_t n = 0;
  std::vector<RingMember> members;
  BucketInfo default_bucket;
  std::vector<BucketInfo> buckets;
  std::vector<uint32_t> owners;  // indexes into members; empty: derive them
  bool operator==(const RingInfo&) const = default;
};

// The peer handshake (docs/security.md); handled by the connection layer,
// never by the protocol.
struct PeerHello {
  NodeId node;
  std::string nonce;
  bool operator==(const PeerHello&) const = default;
};
struct PeerChallenge {
  NodeId node;
  std::string nonce;
  std::string proof;
  bool operator==(const PeerChallenge&) const = default;
};
struct PeerProof {
  std::string proof;
  bool operator==(const PeerProof&) const = default;
};

// Anti-entropy (docs/anti-entropy.md). Every exchange request names the
// partition's tree and the tree's shape and hash version; a replica whose
// tree has another shape, or is not trusted yet, refuses.
struct AaeRootRequest {
  uint32_t partition = 0;
  uint16_t shape = 0, hash_version = 0;
  uint64_t top = 0;  // the initiator's top hash (XOR of its branches)
  bool operator==(const AaeRootRequest&) const = default;
};
// The answer to an AaeRootRequest whose top matched: nothing else to send,
// and as small as a reply can be, since identical replicas are the rule.
struct AaeRootEqual {
  bool operator==(const AaeRootEqual&) const = default;
};
struct AaeRootReply {
  Status status;
  std::vector<uint64_t> branches;  // the 256 branch hashes
  bool operator==(const AaeRootReply&) const = default;
};
struct AaeBranchRequest {
  uint32_t partition = 0;
  uint16_t shape = 0, hash_version = 0;
  std::vector<uint32_t> branches;
  bool operator==(const AaeBranchRequest&) const = default;
};
struct AaeBranchReply {
  Status status;
  std::vector<uint64_t> segments;  // 256 per requested branch, in request order
  bool operator==(const AaeBranchReply&) const = default;
};
struct AaeKeysRequest {
  uint32_t partition = 0;
  uint16_t shape = 0, hash_version = 0;
  std::vector<uint32_t> segments;
  bool operator==(const AaeKeysRequest&) const = default;
};
struct AaeKeyEntry {
  uint32_t segment = 0;
  std::string bucket, key;
  uint64_t leaf = 0;
  VersionVector clock;
  bool operator==(const AaeKeyEntry&) const = default;
};
struct AaeKeysReply {
  Status status;
  std::vector<AaeKeyEntry> keys;
  bool operator==(const AaeKeysReply&) const = default;
};
// From ringkv-admin: this node's trees and exchanges.
struct AaeStatusRequest {
  // Also recompute every root from the stored objects (slow; for tests).
  bool verify = false;
  bool operator==(const AaeStatusRequest&) const = default;
};
struct AaePartitionStatus {
  uint32_t partition = 0;
  std::string state;  // "trusted", "building"
  uint64_t root = 0;  // top hash of the tree
  bool verified = false;
  uint64_t recomputed = 0;  // with `verify`: the root recomputed from the objects
  int64_t last_exchange_us = 0;  // wall clock; 0 = never
  NodeId last_peer;
  std::string last_result;
  uint64_t keys_repaired = 0;
  uint64_t bytes_sent = 0;
  // As the last full reaping pass left them, less removals since.
  uint64_t tombstones_pending = 0;
  uint64_t tombstones_reaped = 0;  // by this node, since it started
  int64_t last_reap_us = 0;        // wall clock of that pass's end; 0 = never
  bool operator==(const AaePartitionStatus&) const = default;
};
struct AaeStatusReply {
  Status status;
  NodeId node;
  bool enabled = false;
  std::vector<AaePartitionStatus> partitions;
  bool operator==(const AaeStatusReply&) const = default;
};
struct AaeExchangeRequest {
  uint32_t partition = 0;
  NodeId peer;  // empty: the partition's next peer in turn
  bool operator==(const AaeExchangeRequest&) const = default;
};
struct AaeExchangeReply {
  Status status;
  NodeId peer;
  uint64_t segments_differing = 0;
  uint64_t keys_differing = 0;
  uint64_t keys_repaired = 0;
  uint64_t bytes = 0;
  bool operator==(const AaeExchangeReply&) const = default;
};

// Reaping tombstones (docs/anti-entropy.md, "Reaping tombstones"): with
// `commit` false, the replica answers per key whether its copy descends
// the tombstone's `clock` and no hint it holds could bring back what the
// clock does not cover; with `commit` true, it removes each key whose copy
// is still a tombstone with that `leaf`, and answers which it removed.
// With `hints_only` (commit false; asked of members that are not primaries
// of the partition), a node answers only whether it holds no hint for the
// key, whatever its ring view says it replicates.
struct AaeReapRequest {
  uint32_t partition = 0;
  bool commit = false;
  std::vector<AaeKeyEntry> keys;  // at most 512
  bool hints_only = false;
  bool operator==(const AaeReapRequest&) const = default;
};
struct AaeReapReply {
  Status status;
  std::vector<bool> held;  // one per key, in the order asked
  bool operator==(const AaeReapReply&) const = default;
};

// ringkv-admin aae reap (docs/anti-entropy.md, "Reaping tombstones"): one
// full reaping pass over `partition`, or over every partition the node is a
// primary of (`all`), now; one AaeReapPass per partition.
struct AaeReapNowRequest {
  uint32_t partition = 0;
  bool all = false;
  bool operator==(const AaeReapNowRequest&) const = default;
};
struct AaeReapPass {
  uint32_t partition = 0;
  Status status;
  uint32_t rounds = 0;
  uint64_t checked = 0;  // tombstone rows read as candidates
  uint64_t reaped_here = 0;
  uint64_t reaped_peers = 0;
  // Kept, by the first reason found (aae::ReapResult).
  uint64_t kept_hint_here = 0;
  uint64_t kept_replica = 0;
  uint64_t kept_hint_elsewhere = 0;
  uint64_t kept_changed = 0;
  bool operator==(const AaeReapPass&) const = default;
};
struct AaeReapNowReply {
  Status status;
  NodeId node;
  std::vector<AaeReapPass> passes;
  bool operator==(const AaeReapNowReply&) const = default;
};

// Ring changes (docs/ring-changes.md).
struct RingAdminRequest {
  std::string op;
  NodeId node;
  std::string address;
  std::string plan_id;
  uint32_t partition = 0;
  NodeId from;
  NodeId replacement;
  std::string settings;
  std::string bucket;  // bucket: its name
  bool operator==(const RingAdminRequest&) const = default;
};
struct RingAdminReply {
  Status status;
  std::string state;      // ring state record
  std::string plan;       // plan record
  std::string transfers;  // transfer report record
  bool operator==(const RingAdminReply&) const = default;
};
struct TransferEntry {
  std::string bucket, key;
  Object object;
  bool operator==(const TransferEntry&) const = default;
};
struct TransferBatch {
  uint32_t partition = 0;
  uint64_t change_epoch = 0;
  bool start = false;
  std::vector<TransferEntry> entries;
  bool last = false;
  bool operator==(const TransferBatch&) const = default;
};
struct TransferBatchReply {
  Status status;
  bool resume = false;
  std::string bucket, key;
  uint64_t objects = 0, bytes = 0;
  bool operator==(const TransferBatchReply&) const = default;
};
struct PartitionSizesRequest {
  std::vector<uint32_t> partitions;
  bool operator==(const PartitionSizesRequest&) const = default;
};
struct PartitionSizesReply {
  Status status;
  std::vector<uint64_t> keys, bytes;
  bool operator==(const PartitionSizesReply&) const = default;
};

using MessageBody = std::variant<Ping, Pong, GetRequest, GetReply, PutRequest, PutReply,
                                 ReplicaGetRequest, ReplicaGetReply, ReplicaPutRequest,
                                 ReplicaPutReply, ErrorReply, Gossip, StatusRequest,
                                 NodeStatus, RingRequest, RingInfo, PeerHello, PeerChallenge,
                                 PeerProof, AaeRootRequest, AaeRootReply, AaeBranchRequest,
                                 AaeBranchReply, AaeKeysRequest, AaeKeysReply, AaeStatusRequest,
                                 AaeStatusReply, AaeExchangeRequest, AaeExchangeReply,
                                 AaeRootEqual, AaeReapRequest, AaeReapReply, AaeReapNowRequest,
                                 AaeReapNowReply, RingAdminRequest, RingAdminReply, TransferBatch,
                                 TransferBatchReply, PartitionSizesRequest, PartitionSizesReply>;

// The wire name of a message's type ("replicaPut"), for logs.
inline const char* MessageName(const MessageBody& body) {
  static constexpr const char* kNames[] = {
      "ping",          "pong",       "get",           "getReply",    "put",
      "putReply",      "replicaGet", "replicaGetReply", "replicaPut", "replicaPutReply",
      "error",         "gossip",     "statusRequest", "statusReply", "ringRequest",
      "ringReply",     "peerHello",  "peerChallenge", "peerProof",   "aaeRoot",
      "aaeRootReply",  "aaeBranch",  "aaeBranchReply", "aaeKeys",   "aaeKeysReply",
      "aaeStatus",     "aaeStatusReply", "aaeExchange", "aaeExchangeReply", "aaeRootEqual",
      "aaeReap",       "aaeReapReply", "aaeReapNow", "aaeReapNowReply", "ringAdmin",
      "ringAdminReply", "transferBatch", "transferBatchReply", "partitionSizes",
      "partitionSizesReply"};
  static_assert(std::size(kNames) == std::variant_size_v<MessageBody>);
  return kNames[body.index()];
}

// Whether a message belongs to the peer handshake (docs/security.md).
inline bool IsHandshake(const MessageBody& body) {
  return std::holds_alternative<PeerHello>(body) || std::holds_alternative<PeerChallenge>(body) ||
         std::holds_alternative<PeerProof>(body);
}

// Whether a message answers a request (and is matched to it by request id)
// rather than being a request or a one-way message.
inline bool IsReply(const MessageBody& body) {
  return std::visit(
      [](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        return std::is_same_v<T, Pong> || std::is_same_v<T, GetReply> ||
               std::is_same_v<T, PutReply> || std::is_same_v<T, ReplicaGetReply> ||
               std::is_same_v<T, ReplicaPutReply> || std::is_same_v<T, ErrorReply> ||
               std::is_same_v<T, NodeStatus> || std::is_same_v<T, RingInfo> ||
               std::is_same_v<T, AaeRootEqual> || std::is_same_v<T, AaeRootReply> ||
               std::is_same_v<T, AaeBranchReply> ||
               std::is_same_v<T, AaeKeysReply> || std::is_same_v<T, AaeStatusReply> ||
               std::is_same_v<T, AaeExchangeReply> || std::is_same_v<T, AaeReapReply> ||
               std::is_same_v<T, AaeReapNowReply> || std::is_same_v<T, RingAdminReply> ||
               std::is_same_v<T, TransferBatchReply> || std::is_same_v<T, PartitionSizesReply>;
      },
      body);
}

// One-way messages (gossip) have no id and get no reply.
inline bool IsOneWay(const MessageBody& body) { return std::holds_alternative<Gossip>(body); }

struct Message {
  uint64_t request_id = 0;
  std::string from;  // sending node id; empty for clients
  uint32_t timeout_ms = 0;
  MessageBody body;
  // The sending node's generation and monotonic clock at encoding; 0 from
  // clients (proto/message_age.h).
  uint64_t sender_generation = 0;
  int64_t sent_mono_us = 0;
  // A client's bearer token (empty: none).
  std::string auth_token;
  bool operator==(const Message&) const = default;
};

}  // namespace ringkv
