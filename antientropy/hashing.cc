#include "antientropy/hashing.h"

#include <xxhash.h>

#include <cstring>
#include <string>

namespace ringkv::aae {
namespace {

constexpr uint64_t kLeafSeed = 0x1f2e3d4c5b6a7988ULL;

}  // namespace

uint64_t LeafOf(std::string_view bucket, std::string_view key, std::string_view body) {
  return LeafOfDigest(bucket, key, XXH3_64bits(body.data(), body.size()));
}

uint64_t LeafOfDigest(std::string_view bucket, std::string_view key, uint64_t digest) {
  return LeafHasher(bucket, key).Of(digest);
}

LeafHasher::LeafHasher(std::string_view bucket, std::string_view key) {
  const size_t most = 2 * kMaxVarint32 + bucket.size() + key.size() + 8;
  if (most <= sizeof(small_)) {
    in_ = small_;
  } else {
    large_.resize(most);
    in_ = large_.data();
  }
  size_t n = WriteVarint32(in_, static_cast<uint32_t>(bucket.size()));
  std::memcpy(in_ + n, bucket.data(), bucket.size());
  n += bucket.size();
  n += WriteVarint32(in_ + n, static_cast<uint32_t>(key.size()));
  std::memcpy(in_ + n, key.data(), key.size());
  names_ = n + key.size();
}

uint64_t LeafHasher::Of(uint64_t digest) {
  for (int i = 0; i < 8; ++i) in_[names_ + i] = static_cast<char>(digest >> (8 * i));
  return XXH3_64bits_withSeed(in_, names_ + 8, kLeafSeed);
}

}  // namespace ringkv::aae
