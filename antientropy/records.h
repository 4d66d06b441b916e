// What anti-entropy stores in the node's Storage, beside the objects: the
// trees saved at a clean shutdown and the marker that says they are
// current. The grammar is in docs/storage-format.md
// ("Anti-entropy keys"); DO NOT CHANGE it. Pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "antientropy/hash_tree.h"
#include "common/status.h"

namespace ringkv::aae {

// DO NOT CHANGE: 'a' is anti-entropy's range of the key space.
inline constexpr char kAaeTag = 'a';

// 'a' 't' partition:uint32be
std::string TreeKey(uint32_t partition);
std::string TreeRangeStart();
std::string TreeRangeEnd();
std::string EncodeTreeImage(const HashTree& tree);
// Corruption for bytes that do not decode, a shape or hash version other
// than this build's, or segment numbers out of range or not ascending.
Result<std::unique_ptr<HashTree>> DecodeTreeImage(std::string_view bytes);

// 'a' 'c'
std::string MarkerKey();
std::string EncodeMarker();
// True when `bytes` is a marker of this build's shape and hash version.
bool MarkerCurrent(std::string_view bytes);

}  // namespace ringkv::aae
