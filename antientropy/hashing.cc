#include "antientropy/hashing.h"

#include <xxhash.h>

#include <string>


namespace ringkv::aae {
namespace {

constexpr uint64_t kLeafSeed = 0x1f2e3d4c5b6a7988ULL;

}  // namespace

uint64_t LeafOf(std::string_view bucket, std::string_view key, std::string_view body) {
  return LeafOfDigest(bucket, key, XXH3_64bits(body.data(), body.size()));
}

uint64_t LeafOfDigest(std::string_view bucket, std::string_view key, uint64_t digest) {
  // Two leaves per write: the input is laid out in a buffer that keeps its
  // room from one leaf to the next instead of in fresh strings.
  thread_local std::string in;
  in.clear();
  PutVarint32(&in, static_cast<uint32_t>(bucket.size()));
  in.append(bucket);
  PutVarint32(&in, static_cast<uint32_t>(key.size()));
  in.append(key);
  char le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<char>(digest >> (8 * i));
  in.append(le, 8);
  return XXH3_64bits_withSeed(in.data(), in.size(), kLeafSeed);
}

}  // namespace ringkv::aae
