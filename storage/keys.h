// Keys: the layout of storage keys, so that each kind of record and each
// partition's objects occupy one contiguous range of the ordered key space.
//
// See docs/storage-format.md for the grammar. DO NOT CHANGE the tags or the
// byte order: data on disk depends on them. Pure functions, thread-safe.
#pragma once

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

// 'o' partition:uint32be varint32(len(bucket)) bucket key.
std::string ObjectKey(uint32_t partition, std::string_view bucket, std::string_view key);
// Splits an object key; any output may be null. Corruption when `skey` is not
// a well-formed object key.
Status ParseObjectKey(std::string_view skey, uint32_t* partition, std::string* bucket,
                      std::string* key);

// [PartitionStart(p), PartitionEnd(p)) holds exactly partition p's objects.
std::string PartitionStart(uint32_t partition);
std::string PartitionEnd(uint32_t partition);

// 'm' name.
std::string MetaKey(std::string_view name);

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
