// What anti-entropy stores in the node's Storage, beside the objects: the
// per-key segment index, the trees saved at a clean shutdown and the marker
// that says they are current. The grammar is in docs/storage-format.md
// ("Anti-entropy keys"); DO NOT CHANGE it. Pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "antientropy/hash_tree.h"
#include "causality/object.h"
#include "common/status.h"

namespace ringkv::aae {

// DO NOT CHANGE: 'a' is anti-entropy's range of the key space.
inline constexpr char kAaeTag = 'a';

// 'a' 'i' partition:uint32be segment:uint16be varint32(len(bucket)) bucket key
std::string IndexKey(uint32_t partition, uint32_t segment, std::string_view bucket,
                     std::string_view key);
// Every index row of one segment, or of one partition, is one range.
std::string IndexSegmentStart(uint32_t partition, uint32_t segment);
std::string IndexSegmentEnd(uint32_t partition, uint32_t segment);
std::string IndexPartitionStart(uint32_t partition);
std::string IndexPartitionEnd(uint32_t partition);
// Corruption when `skey` is not a well-formed index key. Outputs may be null.
Status ParseIndexKey(std::string_view skey, uint32_t* partition, uint32_t* segment,
                     std::string* bucket, std::string* key);

struct IndexEntry {
  uint64_t leaf = 0;
  VersionVector clock;
  bool tombstone = false;  // every sibling is one: a candidate for reaping
};
std::string EncodeIndexEntry(const IndexEntry& entry);
Result<IndexEntry> DecodeIndexEntry(std::string_view bytes);

// 'a' 't' partition:uint32be
std::string TreeKey(uint32_t partition);
std::string TreeRangeStart();
std::string TreeRangeEnd();
std::string EncodeTreeImage(const HashTree& tree);
// Corruption for bytes that do not decode, a shape or hash version other
// than this build's, or segment numbers out of range or not ascending.
Result<std::unique_ptr<HashTree>> DecodeTreeImage(std::string_view bytes);

// 'a' 'g': the index may lack rows (the node ran with anti-entropy off);
// value empty.
std::string GapKey();

// 'a' 'c'
std::string MarkerKey();
std::string EncodeMarker();
// True when `bytes` is a marker of this build's shape and hash version.
bool MarkerCurrent(std::string_view bytes);

}  // namespace ringkv::aae
