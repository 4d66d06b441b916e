# Stored records of anti-entropy (docs/anti-entropy.md, docs/storage-format.md):
# the trees saved at a clean shutdown.
#
# Schema evolution: add fields with new ordinals only. DO NOT renumber,
# retype or remove a field: these bytes are on disk.
@0xc4f1a7e3b2d59a61;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ringkv::schema");

# One partition's tree as saved at a clean shutdown: its non-zero segment
# hashes, by segment number ascending (branches are recomputed from them).
struct TreeImage {
  shape @0 :UInt32;
  hashVersion @1 :UInt32;
  segments @2 :List(UInt32);
  hashes @3 :List(UInt64);
}

# Written last at a clean shutdown, deleted when the trees are loaded: its
# absence at start means the saved trees cannot be trusted.
struct CleanMarker {
  shape @0 :UInt32;
  hashVersion @1 :UInt32;
}
