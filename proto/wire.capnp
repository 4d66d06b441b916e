# Messages between clients and nodes and between nodes. Each frame on a TCP
# connection carries exactly one Envelope (docs/wire-protocol.md).
#
# Schema evolution: add fields and union members with new ordinals only.
# DO NOT renumber, retype or remove a field.
@0xbdae313cd2e75947;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ringkv::schema");

using import "/causality/object.capnp".Object;
using import "/causality/object.capnp".VvEntry;

# Quorum fields (r, w, pr, pw) are UInt32: 0 = the bucket's default (for pr
# and pw: none), 1..n a count, 0xFFFFFFFE = quorum (n/2+1), 0xFFFFFFFF = all.

struct Envelope {
  # Protocol version; 1 is the only one so far.
  version @0 :UInt16 = 1;
  # Chosen by the sender; a reply carries the id of its request.
  requestId @1 :UInt64;
  # Sending node's id; empty for clients.
  from @2 :Text;
  # Time left for this request, in milliseconds; 0 = the receiver's default.
  timeoutMs @3 :UInt32;

  union {
    ping @4 :Void;
    pong @5 :Pong;
    get @6 :GetRequest;
    getReply @7 :GetReply;
    put @8 :PutRequest;
    putReply @9 :PutReply;
    replicaGet @10 :ReplicaGetRequest;
    replicaGetReply @11 :ReplicaGetReply;
    replicaPut @12 :ReplicaPutRequest;
    replicaPutReply @13 :ReplicaPutReply;
    error @14 :ErrorReply;
    gossip @15 :Gossip;
    statusRequest @16 :Void;
    statusReply @17 :NodeStatus;
    ringRequest @18 :Void;
    ringReply @19 :RingInfo;
    # Peer authentication (docs/security.md): the node that opens a peer
    # connection sends peerHello, the accepting node answers peerChallenge,
    # the opener sends peerProof; only then may the connection carry
    # messages with a non-empty `from`.
    peerHello @22 :PeerHello;
    peerChallenge @23 :PeerChallenge;
    peerProof @24 :PeerProof;
    # Anti-entropy (docs/anti-entropy.md): the exchange between replicas,
    # then ringkv-admin's view and trigger.
    aaeRoot @25 :AaeRootRequest;
    aaeRootReply @26 :AaeRootReply;
    aaeBranch @27 :AaeBranchRequest;
    aaeBranchReply @28 :AaeBranchReply;
    aaeKeys @29 :AaeKeysRequest;
    aaeKeysReply @30 :AaeKeysReply;
    aaeStatus @31 :AaeStatusRequest;
    aaeStatusReply @32 :AaeStatusReply;
    aaeExchange @33 :AaeExchangeRequest;
    aaeExchangeReply @34 :AaeExchangeReply;
    aaeRootEqual @35 :Void;
    aaeReap @36 :AaeReapRequest;
    aaeReapReply @37 :AaeReapReply;
    aaeReapNow @39 :AaeReapNowRequest;
    aaeReapNowReply @40 :AaeReapNowReply;
    # Ring changes (docs/ring-changes.md): ringkv-admin's and a joining
    # node's requests, forwarded by any member to the claimant; partition
    # transfers between nodes; the partition sizes a plan shows.
    ringAdmin @41 :RingAdminRequest;
    ringAdminReply @42 :RingAdminReply;
    transferBatch @43 :TransferBatch;
    transferBatchReply @44 :TransferBatchReply;
    partitionSizes @45 :PartitionSizesRequest;
    partitionSizesReply @46 :PartitionSizesReply;
  }

  # Set by nodes on every message they send (0 from clients and older
  # nodes): the sender's process generation and its monotonic clock, in
  # microseconds, when the message was encoded. The receiver learns each
  # peer's clock offset from them and so how long a message waited in
  # queues and socket buffers; a request whose time ran out on the way is
  # refused, never started (docs/wire-protocol.md, "Deadlines").
  senderGeneration @20 :UInt64;
  sentMonoUs @21 :Int64;

  # A client's bearer token, on every request to a node that authenticates
  # clients (docs/security.md, "Client tokens"); empty otherwise, and always
  # from nodes. Nodes keep only its SHA-256.
  authToken @38 :Text;
}

struct Pong {
  node @0 :Text;
}

# Proofs are HMAC-SHA256 under the cluster secret over both member ids and
# both nonces, with a different label for each side (docs/security.md), so
# neither can be replayed on another connection or reflected to the other
# side. The secret itself never travels.
struct PeerHello {
  # The opener's member id.
  node @0 :Text;
  # 32 fresh random bytes.
  nonce @1 :Data;
}

struct PeerChallenge {
  # The acceptor's member id: the opener checks it is the node it dialled.
  node @0 :Text;
  # 32 fresh random bytes.
  nonce @1 :Data;
  # The acceptor's proof that it holds the secret.
  proof @2 :Data;
}

struct PeerProof {
  # The opener's proof that it holds the secret.
  proof @0 :Data;
}

struct ReplyStatus {
  # A Status code (common/status.h); 0 = ok.
  code @0 :UInt8;
  message @1 :Text;
}

struct GetRequest {
  bucket @0 :Data;
  key @1 :Data;
  r @2 :UInt32;
  pr @3 :UInt32;
}

struct GetReply {
  status @0 :ReplyStatus;
  # True when some replica held the key (even if only tombstones).
  found @1 :Bool;
  # The merged object; siblings may include tombstones.
  object @2 :Object;
}

struct PutRequest {
  bucket @0 :Data;
  key @1 :Data;
  value @2 :Data;
  # A delete writes a tombstone.
  tombstone @3 :Bool;
  # Encoded Context from an earlier read; empty = blind write.
  context @4 :Data;
  w @5 :UInt32;
  pw @6 :UInt32;
  # Set when a node forwards the put to a primary; the receiver coordinates
  # it even if its own ring disagrees, so a put is forwarded at most once.
  forwarded @7 :Bool;
  # Minted by the node where the client's request entered the cluster and
  # carried by every forward: the wall-clock time last-write-wins orders by,
  # and the write's id (see object.capnp Sibling). Ignored from clients.
  timestampUs @8 :Int64;
  writeIdHi @9 :UInt64;
  writeIdLo @10 :UInt64;
  # A conditional put: stored only if its context covers every sibling the
  # key's coordinator holds (none is left beside the new value), otherwise
  # refused with preconditionFailed. Coordinated by the key's first live
  # primary, so that two conditional puts of one key are checked in turn.
  ifMatch @11 :Bool;
}

struct PutReply {
  status @0 :ReplyStatus;
  # The object as the coordinator stored it; its context covers the write.
  object @1 :Object;
}

struct ReplicaGetRequest {
  bucket @0 :Data;
  key @1 :Data;
}

struct ReplicaGetReply {
  status @0 :ReplyStatus;
  found @1 :Bool;
  object @2 :Object;
}

# Merge `object` into the replica's copy (causal sync; no new dot).
struct ReplicaPutRequest {
  bucket @0 :Data;
  key @1 :Data;
  object @2 :Object;
  # Non-empty on a sloppy-quorum write: the receiver is a fallback and keeps
  # the object as a hint for this primary, to hand it over when it is back.
  hintFor @3 :Text;
  # Set by hinted handoff: the object is a hint handed back to its owner.
  # Applied like any replica write; it tells the two kinds apart in the
  # receiver's figures and in tests.
  handoff @4 :Bool;
}

struct ReplicaPutReply {
  status @0 :ReplyStatus;
}

# Sent instead of a typed reply when a request cannot be understood.
struct ErrorReply {
  status @0 :ReplyStatus;
}

# One node's liveness counter as seen by the sender (Cassandra-style): the
# generation changes when the node restarts, the version on every beat.
struct Heartbeat {
  node @0 :Text;
  generation @1 :UInt64;
  version @2 :UInt64;
  # The node's ring state epoch when it made this beat, relayed with it so
  # that every member learns every member's epoch in a few rounds; 0 from
  # nodes older than this field.
  ringEpoch @3 :UInt64;
}

# Periodic, one-way: the sender's view of every member's heartbeat.
struct Gossip {
  ringEpoch @0 :UInt64;
  heartbeats @1 :List(Heartbeat);
  # The sender's ring state record (replication/ring_state.capnp); empty
  # from nodes older than this field.
  ringState @2 :Data;
}

struct PeerState {
  node @0 :Text;
  up @1 :Bool;
  # Suspicion level of the phi-accrual detector; up while below threshold.
  phi @2 :Float64;
}

struct HintCount {
  target @0 :Text;
  count @1 :UInt64;
}

struct MetricLabel {
  name @0 :Text;
  value @1 :Text;
}

# A histogram bucket: observations at or below upperBound (cumulative, as
# Prometheus's `_bucket{le=...}`).
struct MetricBucket {
  upperBound @0 :Float64;
  count @1 :UInt64;
}

# One series of the node's metrics registry (common/metrics.h; every name
# is listed in docs/metrics.md).
struct MetricSample {
  name @0 :Text;
  # 0 = counter, 1 = gauge, 2 = histogram (common/metrics.h MetricType).
  type @1 :UInt8;
  help @2 :Text;
  # Sorted by name.
  labels @3 :List(MetricLabel);
  # Counters and gauges.
  value @4 :Float64;
  # Histograms: the number and sum of observations and the non-empty
  # buckets ascending; the +Inf bucket is implicit and holds `count`.
  count @5 :UInt64;
  sum @6 :Float64;
  buckets @7 :List(MetricBucket);
}

# Answer to statusRequest: this node's view of the cluster.
struct NodeStatus {
  node @0 :Text;
  incarnation @1 :UInt64;
  peers @2 :List(PeerState);
  hints @3 :List(HintCount);
  hintsDelivered @4 :UInt64;
  ringEpoch @5 :UInt64;
  # Hints this node failed to store since it started (disk full, I/O
  # error): each is a replica that only anti-entropy can now repair.
  hintWriteFailures @6 :UInt64;
  # Every series of the node's metrics registry, so a new figure needs no
  # schema change. Empty from nodes older than this field.
  metrics @7 :List(MetricSample);
}

struct Member {
  id @0 :Text;
  # Where clients and peers reach it, "host:port".
  address @1 :Text;
}

struct BucketInfo {
  name @0 :Data;
  n @1 :UInt32;
  r @2 :UInt32;
  w @3 :UInt32;
  # Read by clients older than resolverName: 0 = siblings, 1 = lww, 2 = a
  # resolver they do not know.
  resolver @4 :UInt8;
  # The bucket's resolver by name (causality/resolver.h); empty from nodes
  # older than this field, which then meant `resolver`.
  resolverName @5 :Text;
  # The sibling caps and a merge plugin's pins (replication/bucket.h); the
  # defaults from nodes older than these fields.
  maxSiblings @6 :UInt32 = 100;
  warnSiblings @7 :UInt32 = 25;
  pluginVersion @8 :UInt32;
  pluginHash @9 :Text;
}

# Answer to ringRequest: what a client needs to compute preference lists
# itself (Ring::Create is deterministic in members, partitions and n) and
# send reads straight to the replicas.
struct RingInfo {
  epoch @0 :UInt64;
  partitions @1 :UInt32;
  n @2 :UInt32;
  members @3 :List(Member);
  defaultBucket @4 :BucketInfo;
  buckets @5 :List(BucketInfo);
  # owners[p] indexes `members`: the owner of partition p. Empty from nodes
  # older than this field, whose owners Ring::Create derives from members.
  owners @6 :List(UInt32);
}

# Anti-entropy: every exchange request names a partition's tree with its
# shape (1 = 256 branches x 256 segments of 64-bit hashes) and hash version
# (1); a replica with another shape or version, or whose tree is still being
# built, answers with a non-ok status.
struct AaeRootRequest {
  partition @0 :UInt32;
  shape @1 :UInt16;
  hashVersion @2 :UInt16;
  # The initiator's top hash: the XOR of its 256 branch hashes. When the
  # responder's is the same it answers aaeRootEqual (Void), else
  # aaeRootReply.
  top @3 :UInt64;
}

struct AaeRootReply {
  status @0 :ReplyStatus;
  # The responder's 256 branch hashes (empty with a non-ok status).
  branches @1 :List(UInt64);
}

struct AaeBranchRequest {
  partition @0 :UInt32;
  shape @1 :UInt16;
  hashVersion @2 :UInt16;
  # Branch numbers (0..255), at most 256.
  branches @3 :List(UInt32);
}

struct AaeBranchReply {
  status @0 :ReplyStatus;
  # 256 segment hashes per requested branch, in the order asked.
  segments @1 :List(UInt64);
}

struct AaeKeysRequest {
  partition @0 :UInt32;
  shape @1 :UInt16;
  hashVersion @2 :UInt16;
  # Segment numbers (branch * 256 + segment in branch), at most 128.
  segments @3 :List(UInt32);
}

# One key of a segment as the responder's index holds it.
struct AaeKeyEntry {
  segment @0 :UInt32;
  bucket @1 :Data;
  key @2 :Data;
  leaf @3 :UInt64;
  clock @4 :List(VvEntry);
}

struct AaeKeysReply {
  status @0 :ReplyStatus;
  keys @1 :List(AaeKeyEntry);
}

struct AaeStatusRequest {
  # Also recompute each tree's root from the stored objects.
  verify @0 :Bool;
}

struct AaePartitionStatus {
  partition @0 :UInt32;
  # "trusted" or "building".
  state @1 :Text;
  root @2 :UInt64;
  verified @3 :Bool;
  recomputed @4 :UInt64;
  # Wall-clock microseconds of the last exchange; 0 = none since start.
  lastExchangeUs @5 :Int64;
  lastPeer @6 :Text;
  lastResult @7 :Text;
  keysRepaired @8 :UInt64;
  bytesSent @9 :UInt64;
  # Tombstone rows the last full reaping pass over the partition's index
  # found and left, less those removed here since; 0 before the first
  # pass (lastReapUs 0).
  tombstonesPending @10 :UInt64;
  # Tombstones of the partition this node removed since it started.
  tombstonesReaped @11 :UInt64;
  # Wall-clock microseconds at which the last full pass ended; 0 = none.
  lastReapUs @12 :Int64;
}

struct AaeStatusReply {
  status @0 :ReplyStatus;
  node @1 :Text;
  enabled @2 :Bool;
  partitions @3 :List(AaePartitionStatus);
}

# Reaping tombstones (docs/anti-entropy.md). Check (commit false): for each
# key, does the replica's copy descend `clock`, with no hint for the key
# that `clock` does not cover? Commit: remove each key whose copy is still a
# tombstone with `leaf`. `held` answers per key, in order. With hintsOnly
# (asked of every member that is not a primary, commit false), only the
# hints count: the member holds no hint for the key at all.
struct AaeReapRequest {
  partition @0 :UInt32;
  commit @1 :Bool;
  # At most 512.
  keys @2 :List(AaeKeyEntry);
  hintsOnly @3 :Bool;
}

struct AaeReapReply {
  status @0 :ReplyStatus;
  held @1 :List(Bool);
}

# ringkv-admin aae reap: a full reaping pass (rounds until the end of the
# index) over one partition, or over every partition the node is a primary
# of (`all`), now.
struct AaeReapNowRequest {
  partition @0 :UInt32;
  all @1 :Bool;
}

# One partition's pass. Candidates kept, by the first reason found: a hint
# on this node, a primary that has not confirmed (its copy has not seen all
# of the tombstone, or it holds a hint), a hint on another member (a
# stand-in), changed here between check and removal.
struct AaeReapPass {
  partition @0 :UInt32;
  status @1 :ReplyStatus;
  rounds @2 :UInt32;
  checked @3 :UInt64;
  reapedHere @4 :UInt64;
  reapedPeers @5 :UInt64;
  keptHintHere @6 :UInt64;
  keptReplica @7 :UInt64;
  keptHintElsewhere @8 :UInt64;
  keptChanged @9 :UInt64;
}

struct AaeReapNowReply {
  status @0 :ReplyStatus;
  node @1 :Text;
  passes @2 :List(AaeReapPass);
}

struct AaeExchangeRequest {
  partition @0 :UInt32;
  # Empty: the partition's next peer in turn.
  peer @1 :Text;
}

struct AaeExchangeReply {
  status @0 :ReplyStatus;
  peer @1 :Text;
  segmentsDiffering @2 :UInt64;
  keysDiffering @3 :UInt64;
  keysRepaired @4 :UInt64;
  bytes @5 :UInt64;
}

# Ring changes (docs/ring-changes.md). `op` is one of "ring", "join",
# "leave", "plan", "commit", "clear", "transfers" (from ringkv-admin or a
# joining node), "transfer-done" (from a transfer's receiver to the
# claimant).
struct RingAdminRequest {
  op @0 :Text;
  # join, leave, replace, force-remove, force-replace, mark-down: the
  # member; transfer-done: the receiver.
  node @1 :Text;
  # join: where the new member is reached, "host:port".
  address @2 :Text;
  # commit: the plan id `plan` showed.
  planId @3 :Text;
  # transfer-done: which transfer.
  partition @4 :UInt32;
  from @5 :Text;
  # replace, force-replace: the joining member that takes over `node`.
  replacement @6 :Text;
  # limits: "max=N,mib-per-s=X"; bucket: "w=3,resolver=lww" (the
  # properties to set, ParseBucketProps in replication/bucket.h).
  settings @7 :Text;
  # bucket: the bucket's name (1 to 255 bytes).
  bucket @8 :Data;
}

struct RingAdminReply {
  status @0 :ReplyStatus;
  # Records of replication/ring_state.capnp: the ring state after the
  # request (every op), the plan (plan), this node's transfers (transfers).
  state @1 :Data;
  plan @2 :Data;
  transfers @3 :Data;
}

# One batch of a partition's snapshot, sender to receiver. `start` (and no
# entries) asks for the receiver's checkpoint; `last` ends the stream.
struct TransferBatch {
  partition @0 :UInt32;
  # The epoch that committed the change: a receiver refuses another.
  changeEpoch @1 :UInt64;
  start @2 :Bool;
  entries @3 :List(TransferEntry);
  last @4 :Bool;
}

struct TransferEntry {
  bucket @0 :Data;
  key @1 :Data;
  object @2 :Object;
}

struct TransferBatchReply {
  status @0 :ReplyStatus;
  # The receiver's checkpoint: the last object it stored of this transfer
  # (resume = false: none, start from the first).
  resume @1 :Bool;
  bucket @2 :Data;
  key @3 :Data;
  objects @4 :UInt64;
  bytes @5 :UInt64;
}

struct PartitionSizesRequest {
  partitions @0 :List(UInt32);
}

struct PartitionSizesReply {
  status @0 :ReplyStatus;
  # One per partition asked, in order.
  keys @1 :List(UInt64);
  bytes @2 :List(UInt64);
}
