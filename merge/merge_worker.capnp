# The messages between a node and its ringkv-merge-worker processes (the
# out-of-process mode of merge plugins, docs/plugins.md "Worker mode"), one
# per frame over a socketpair:
#
#   frame := length:uint32le body[length]     body: one flat WorkerRequest or
#                                              WorkerReply, 0 < length <= 20 MiB
#
# The node sends requests; the worker answers each, in order, with the
# request's id; its first frame, before any request, is a hello (id 0). The
# pair never leaves one machine and one build, so the schema has no version
# negotiation, but it evolves as every schema here does: add fields with new
# ordinals only.
@0xc4de37f96d3ee881;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ringkv::worker_schema");

# One sibling as the plugin sees it (ringkv_merge.h rkv_sibling).
struct MergeSibling {
  value @0 :Data;
  timestampUs @1 :Int64;
  dotNode @2 :Data;
  dotIncarnation @3 :UInt64;
  dotCounter @4 :UInt64;
}

struct WorkerRequest {
  id @0 :UInt64;
  union {
    # Merge these (two or more) values.
    merge @1 :List(MergeSibling);
    # Run the law check (merge/law_check.h) on this many samples.
    checkLaws @2 :LawCheck;
  }
}

struct LawCheck {
  samples @0 :UInt32;
  seed @1 :UInt64;
  # The node kills the worker then; the worker's CPU limit follows it.
  deadlineMs @2 :UInt64;
}

struct Hello {
  name @0 :Text;
  version @1 :UInt32;
  # Hex SHA-256 of the shared object the worker loaded.
  sha256 @2 :Text;
}

struct WorkerReply {
  id @0 :UInt64;
  union {
    # The worker loaded the plugin (id 0, its first frame).
    hello @1 :Hello;
    # It could not: why (id 0, then it exits).
    refused @2 :Text;
    # The merge's bytes.
    merged @3 :Data;
    # The plugin declined: its code (RKV_KEEP_SIBLINGS, RKV_EINVAL, ...).
    declined @4 :Int32;
    # Its result lay outside the memory it was lent, or was too large.
    invalidOutput @5 :Text;
    # The law check passed, or which law broke and the counterexample.
    lawsOk @6 :Void;
    lawsBroken @7 :Text;
  }
}
