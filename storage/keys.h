// Keys: the layout of storage keys, so that each kind of record and each
// partition's objects occupy one contiguous range of the ordered key space.
//
// See docs/storage-format.md for the grammar. DO NOT CHANGE the tags or the
// byte order: data on disk depends on them. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ringkv {

// DO NOT CHANGE: first byte of every key, naming its range.
inline constexpr char kObjectTag = 'o';
inline constexpr char kHintTag = 'h';
inline constexpr char kMetaTag = 'm';

// Names of the meta keys (MetaKey(kMetaIncarnation) ...).
inline constexpr std::string_view kMetaIncarnation = "incarnation";
inline constexpr std::string_view kMetaFormatVersion = "format_version";
inline constexpr std::string_view kMetaGeneration = "generation";
inline constexpr std::string_view kMetaMintFloor = "mint_floor";

// The key's anti-entropy segment (0..65535): the top 16 bits of XXH3-64
// with its own seed over varint32(len(bucket)) bucket key. Independent of
// the ring position (seed 0), whose top bits pick the partition: with those
// bits a partition's keys would crowd into a few segments. Part of the
// object key, so that each segment's objects are one range.
// DO NOT CHANGE the seed or the input: keys on disk and the trees
// replicas compare (docs/anti-entropy.md) depend on it.
inline constexpr uint32_t kKeySegments = 65536;
uint32_t KeySegment(std::string_view bucket, std::string_view key);

// 'o' partition:uint32be segment:uint16be varint32(len(bucket)) bucket key,
// segment = KeySegment(bucket, key) (computed here; the second form takes
// it from a caller that has it).
std::string ObjectKey(uint32_t partition, std::string_view bucket, std::string_view key);
std::string ObjectKey(uint32_t partition, uint32_t segment, std::string_view bucket,
                      std::string_view key);
// Splits an object key; any output may be null. Corruption when `skey` is not
// a well-formed object key or its segment is not its bucket and key's.
Status ParseObjectKey(std::string_view skey, uint32_t* partition, std::string* bucket,
                      std::string* key);
Status ParseObjectKey(std::string_view skey, uint32_t* partition, uint32_t* segment,
                      std::string* bucket, std::string* key);
// Whether `skey`, a key ObjectKey made, names (partition, bucket, key):
// compares the bytes without hashing (the segment is not looked at).
bool IsObjectKeyOf(std::string_view skey, uint32_t partition, std::string_view bucket,
                   std::string_view key);
// The segment field of a key ObjectKey made.
inline uint32_t ObjectKeySegment(std::string_view skey) {
  return (uint32_t{static_cast<uint8_t>(skey[5])} << 8) | static_cast<uint8_t>(skey[6]);
}

// [PartitionStart(p), PartitionEnd(p)) holds exactly partition p's objects,
// and [SegmentStart(p, s), SegmentEnd(p, s)) those of its segment s.
std::string PartitionStart(uint32_t partition);
std::string PartitionEnd(uint32_t partition);
std::string SegmentStart(uint32_t partition, uint32_t segment);
std::string SegmentEnd(uint32_t partition, uint32_t segment);

// 'm' name.
std::string MetaKey(std::string_view name);

// The varint32 of the key grammar (little-endian groups of 7 bits).
void PutVarint32(std::string* out, uint32_t v);
// The same into `out`, which has room for kMaxVarint32 bytes; returns the
// bytes written.
inline constexpr size_t kMaxVarint32 = 5;
size_t WriteVarint32(char* out, uint32_t v);
// Consumes one from the front of `*in`; false if truncated, longer than 5
// bytes, above 2^32-1 or not minimal (a zero last group), so that a stored
// key parses back into parts that make exactly that key again.
bool GetVarint32(std::string_view* in, uint32_t* v);

// 'h' len(target):uint8 target object_key: the hint held for `target` for
// one object. One key per (target, object), so later hints for the same
// object merge into it instead of piling up.
// REQUIRES: target.size() <= 255.
std::string HintKey(std::string_view target, uint32_t partition, std::string_view bucket,
                    std::string_view key);

// Prefix shared by every hint for `target` (and by no other target's hints).
// REQUIRES: target.size() <= 255.
std::string HintPrefix(std::string_view target);

// Splits a hint key; any output may be null. Corruption when malformed.
Status ParseHintKey(std::string_view skey, std::string* target, uint32_t* partition,
                    std::string* bucket, std::string* key);

// Smallest key greater than every key starting with `prefix`, for use as a
// scan's end; "" (no bound) when the prefix is empty or all 0xff bytes.
std::string PrefixEnd(std::string_view prefix);

}  // namespace ringkv
