#include "storage/keys.h"

#include <xxhash.h>

namespace ringkv {
namespace {

constexpr uint64_t kSegmentSeed = 0x5a3c9e1f0b7d2468ULL;
// 'o' partition segment: where varint32(len(bucket)) starts.
constexpr size_t kNamesOffset = 7;

uint32_t SegmentOfNames(std::string_view names) {
  return static_cast<uint32_t>(XXH3_64bits_withSeed(names.data(), names.size(), kSegmentSeed) >>
                               48);
}

void PutSegment(std::string* out, size_t at, uint32_t segment) {
  (*out)[at] = static_cast<char>(segment >> 8);
  (*out)[at + 1] = static_cast<char>(segment);
}

void PutFixed32BE(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t GetFixedBE(std::string_view in) {
  uint64_t v = 0;
  for (char c : in) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

}  // namespace

uint32_t KeySegment(std::string_view bucket, std::string_view key) {
  std::string names;
  names.reserve(5 + bucket.size() + key.size());
  PutVarint32(&names, static_cast<uint32_t>(bucket.size()));
  names.append(bucket);
  names.append(key);
  return SegmentOfNames(names);
}

std::string ObjectKey(uint32_t partition, std::string_view bucket, std::string_view key) {
  std::string out = ObjectKey(partition, 0, bucket, key);
  // The segment's input is exactly the key's tail: hashed in place.
  PutSegment(&out, 5, SegmentOfNames(std::string_view(out).substr(kNamesOffset)));
  return out;
}

std::string ObjectKey(uint32_t partition, uint32_t segment, std::string_view bucket,
                      std::string_view key) {
  std::string out;
  out.reserve(kNamesOffset + 5 + bucket.size() + key.size());
  out.push_back(kObjectTag);
  PutFixed32BE(&out, partition);
  out.append(2, '\0');
  PutSegment(&out, 5, segment);
  PutVarint32(&out, static_cast<uint32_t>(bucket.size()));
  out.append(bucket);
  out.append(key);
  return out;
}

Status ParseObjectKey(std::string_view skey, uint32_t* partition, std::string* bucket,
                      std::string* key) {
  return ParseObjectKey(skey, partition, nullptr, bucket, key);
}

Status ParseObjectKey(std::string_view skey, uint32_t* partition, uint32_t* segment,
                      std::string* bucket, std::string* key) {
  if (skey.size() < kNamesOffset + 1 || skey[0] != kObjectTag) {
    return Status::Corruption("not an object key");
  }
  const uint32_t p = static_cast<uint32_t>(GetFixedBE(skey.substr(1, 4)));
  const uint32_t s = ObjectKeySegment(skey);
  std::string_view rest = skey.substr(kNamesOffset);
  uint32_t bucket_len = 0;
  if (!GetVarint32(&rest, &bucket_len) || bucket_len > rest.size()) {
    return Status::Corruption("object key: bad bucket length");
  }
  // A key filed under another segment would be missed by its segment's
  // scan and counted in the wrong segment's hash.
  if (SegmentOfNames(skey.substr(kNamesOffset)) != s) {
    return Status::Corruption("object key: segment is not the key's");
  }
  if (partition != nullptr) *partition = p;
  if (segment != nullptr) *segment = s;
  if (bucket != nullptr) bucket->assign(rest.substr(0, bucket_len));
  if (key != nullptr) key->assign(rest.substr(bucket_len));
  return Status::OK();
}

bool IsObjectKeyOf(std::string_view skey, uint32_t partition, std::string_view bucket,
                   std::string_view key) {
  if (skey.size() < kNamesOffset + 1 || skey[0] != kObjectTag ||
      GetFixedBE(skey.substr(1, 4)) != partition) {
    return false;
  }
  std::string_view rest = skey.substr(kNamesOffset);
  uint32_t bucket_len = 0;
  return GetVarint32(&rest, &bucket_len) && bucket_len == bucket.size() &&
         rest.size() == bucket.size() + key.size() && rest.substr(0, bucket_len) == bucket &&
         rest.substr(bucket_len) == key;
}

std::string PartitionStart(uint32_t partition) {
  std::string out(1, kObjectTag);
  PutFixed32BE(&out, partition);
  return out;
}

std::string PartitionEnd(uint32_t partition) {
  // The last partition's range ends where the object range does.
  if (partition == UINT32_MAX) return std::string(1, kObjectTag + 1);
  return PartitionStart(partition + 1);
}

std::string SegmentStart(uint32_t partition, uint32_t segment) {
  std::string out = PartitionStart(partition);
  out.append(2, '\0');
  PutSegment(&out, 5, segment);
  return out;
}

std::string SegmentEnd(uint32_t partition, uint32_t segment) {
  return segment + 1 < kKeySegments ? SegmentStart(partition, segment + 1)
                                    : PartitionEnd(partition);
}

std::string MetaKey(std::string_view name) {
  std::string out(1, kMetaTag);
  out.append(name);
  return out;
}

std::string HintPrefix(std::string_view target) {
  std::string out(1, kHintTag);
  out.push_back(static_cast<char>(static_cast<uint8_t>(target.size())));
  out.append(target);
  return out;
}

std::string HintKey(std::string_view target, uint32_t partition, std::string_view bucket,
                    std::string_view key) {
  std::string out = HintPrefix(target);
  out.append(ObjectKey(partition, bucket, key));
  return out;
}

Status ParseHintKey(std::string_view skey, std::string* target, uint32_t* partition,
                    std::string* bucket, std::string* key) {
  if (skey.size() < 2 || skey[0] != kHintTag) return Status::Corruption("not a hint key");
  const size_t len = static_cast<uint8_t>(skey[1]);
  if (skey.size() < 2 + len) return Status::Corruption("hint key: bad length");
  Status st = ParseObjectKey(skey.substr(2 + len), partition, bucket, key);
  if (!st.ok()) return Status::Corruption("hint key: " + st.message());
  if (target != nullptr) target->assign(skey.substr(2, len));
  return Status::OK();
}

std::string PrefixEnd(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    const uint8_t last = static_cast<uint8_t>(out.back());
    if (last != 0xff) {
      out.back() = static_cast<char>(last + 1);
      return out;
    }
    out.pop_back();
  }
  return out;
}

size_t WriteVarint32(char* out, uint32_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<char>(v);
  return n;
}

void PutVarint32(std::string* out, uint32_t v) {
  char buf[kMaxVarint32];
  out->append(buf, WriteVarint32(buf, v));
}

bool GetVarint32(std::string_view* in, uint32_t* v) {
  uint64_t result = 0;
  for (int i = 0; i < 5 && i < static_cast<int>(in->size()); ++i) {
    const uint8_t byte = static_cast<uint8_t>((*in)[i]);
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (result > UINT32_MAX || (byte == 0 && i > 0)) return false;
      *v = static_cast<uint32_t>(result);
      in->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

}  // namespace ringkv
