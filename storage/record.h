// Record: the envelope around every stored object value, so that a damaged
// or foreign value is detected before it is decoded.
//
// value := version:uint8 (=1) checksum:uint64le (XXH3-64 of body) body; see
// docs/storage-format.md. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ringkv {

// DO NOT CHANGE: written on disk. A new layout takes a new version.
inline constexpr uint8_t kRecordVersion = 1;
inline constexpr size_t kRecordHeaderSize = 9;

std::string EncodeRecord(std::string_view body);
// The same, with `checksum` == RecordChecksum(body) computed already.
std::string EncodeRecord(std::string_view body, uint64_t checksum);
// XXH3-64 of `body` (seed 0): the checksum in the record's header.
uint64_t RecordChecksum(std::string_view body);
// The checksum in the header of `value`, which DecodeRecord accepted.
uint64_t StoredChecksum(std::string_view value);
// The body inside `value` (a view into it). Corruption when `value` is
// shorter than the header, has another version, or fails its checksum.
Result<std::string_view> DecodeRecord(std::string_view value);

}  // namespace ringkv
