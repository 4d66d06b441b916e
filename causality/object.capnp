# Stored and transmitted form of one ringkv object: a set of siblings and the
# causal context that covers them (dotted version vectors; see
# docs/storage-format.md and docs/causality.md).
#
# Schema evolution: add fields with new ordinals only. DO NOT renumber,
# retype or remove a field: these bytes are on disk and on the wire.
@0x9e0e04bd50268a7e;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ringkv::schema");

# A coordinating replica: node id plus the incarnation of its data directory.
struct Actor {
  node @0 :Text;
  incarnation @1 :UInt64;
}

# One version-vector entry: `actor` has seen its events 1..counter.
struct VvEntry {
  actor @0 :Actor;
  counter @1 :UInt64;
}

struct Sibling {
  # The dot (actor, counter) that created this value.
  actor @0 :Actor;
  counter @1 :UInt64;
  # Coordinator's wall clock when the value was written; LWW's order.
  timestampUs @2 :Int64;
  # A delete: no value, still a sibling until superseded.
  tombstone @3 :Bool;
  value @4 :Data;
  # The client write this sibling came from, minted (128 random bits) where
  # the request entered the cluster; 0/0 in records written before write ids
  # existed. A write coordinated twice (a forward retried on the next
  # primary while the first was still at work) yields two siblings with one
  # write id, timestamp and value; merges keep one (docs/architecture.md).
  writeIdHi @5 :UInt64;
  writeIdLo @6 :UInt64;
}

struct Object {
  # Record format version; 1 is the only one so far.
  version @0 :UInt16 = 1;
  # Sorted strictly by actor (node bytes, then incarnation); no zero counters.
  context @1 :List(VvEntry);
  # Sorted by (actor, counter, tombstone, value); every dot covered by context.
  siblings @2 :List(Sibling);
}

# The opaque context a client gets with a read and sends back with a write.
struct Context {
  # 1: the clock alone; 2: bound to the key it was read from (keyHash).
  version @0 :UInt16 = 1;
  entries @1 :List(VvEntry);
  # Version 2: KeyHash(bucket, key) of that key (docs/wire-protocol.md,
  # "Contexts"); a node refuses the context on any other key.
  keyHash @2 :UInt64;
}

