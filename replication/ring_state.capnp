# The ring state record (ring/ring_state.h, docs/storage-format.md and
# docs/ring-changes.md): what a node persists under the meta key
# "ring_state", what gossip carries and what ringkv-admin's ring requests
# answer with. Plans and transfer reports ride in admin replies the same way.
#
# Schema evolution: add fields with new ordinals only. DO NOT renumber,
# retype or remove a field.
@0xd1e6f40b7a9c3e25;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ringkv::schema");

struct RingStateRecord {
  # 1 is the only one so far; a reader refuses another.
  version @0 :UInt16 = 1;
  epoch @1 :UInt64;
  partitions @2 :UInt32;
  n @3 :UInt32;
  members @4 :List(RingMemberRecord);
  # owners[p] indexes `members`.
  owners @5 :List(UInt32);
  # The committed change in flight, indexes into `members`; empty: none.
  nextOwners @6 :List(UInt32);
  changeEpoch @7 :UInt64;
  transfers @8 :List(MoveRecord);
  staged @9 :List(StagedRecord);
  buckets @10 :List(BucketRecord);
  # `ringkv-admin transfers --set`: 0 / negative: each node's own flag.
  transfersPerNode @11 :UInt32;
  transferMibPerSec @12 :Float64 = -1;
}

struct RingMemberRecord {
  id @0 :Text;
  address @1 :Text;
  # 0 joining, 1 valid, 2 leaving, 3 exiting, 4 down.
  status @2 :UInt8;
}

struct MoveRecord {
  partition @0 :UInt32;
  from @1 :Text;
  to @2 :Text;
  done @3 :Bool;
  # Plans only: what the sender holds of the partition now.
  keys @4 :UInt64;
  bytes @5 :UInt64;
  # Plans only: false when the sender did not answer in time (down or
  # slow): keys and bytes are then 0 and mean "unknown".
  sizeKnown @6 :Bool = true;
}

struct StagedRecord {
  # 0 join, 1 leave, 2 replace, 3 force-remove, 4 force-replace.
  kind @0 :UInt8;
  node @1 :Text;
  # replace and force-replace: the joining member that takes over.
  replacement @2 :Text;
}

struct BucketRecord {
  name @0 :Data;
  n @1 :UInt32;
  r @2 :UInt32;
  w @3 :UInt32;
  resolver @4 :Text;
  # The sibling caps and a merge plugin's pins (replication/bucket.h).
  maxSiblings @5 :UInt32 = 100;
  warnSiblings @6 :UInt32 = 25;
  pluginVersion @7 :UInt32;
  pluginHash @8 :Text;
}

# `ringkv-admin ring plan`: what committing the staged changes would do.
struct RingPlanRecord {
  id @0 :Text;
  epoch @1 :UInt64;
  staged @2 :List(StagedRecord);
  moves @3 :List(MoveRecord);
  minPartitions @4 :UInt32;
  maxPartitions @5 :UInt32;
  violations @6 :UInt32;
  # A forced plan's moves are filled by anti-entropy, not transfers.
  forced @7 :Bool;
  # Seconds the moves take at the claimant's transfer pace (0: unpaced).
  etaSec @8 :Float64;
}

# `ringkv-admin transfers`: one node's transfers, as sender and receiver.
struct TransferReportRecord {
  node @0 :Text;
  transfers @1 :List(TransferProgressRecord);
}

struct TransferProgressRecord {
  partition @0 :UInt32;
  from @1 :Text;
  to @2 :Text;
  # "streaming" (sender), "receiving", "received" (receiver); a catch-up
  # exchange the receiver owes after the change: "catch-up" (not failed
  # yet) or "catch-up-retrying" (`from` is the peer that last refused).
  state @3 :Text;
  objects @4 :UInt64;
  bytes @5 :UInt64;
  totalObjects @6 :UInt64;
  totalBytes @7 :UInt64;
  bytesPerSec @8 :Float64;
  etaSec @9 :Float64;
  # catch-up-retrying: the last failure, how many so far, and the seconds
  # until the next try.
  reason @10 :Text;
  attempts @11 :UInt32;
  retryInSec @12 :Float64;
}
