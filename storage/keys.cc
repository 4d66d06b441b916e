#include "storage/keys.h"

namespace ringkv {
namespace {

void PutFixed32BE(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t GetFixedBE(std::string_view in) {
  uint64_t v = 0;
  for (char c : in) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

void PutVarint32(std::string* out, uint32_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Consumes a varint32 from the front of `*in`; false if truncated, longer
// than 5 bytes, above 2^32-1 or not minimal (a zero last group), so that a
// stored key parses back into parts that make exactly that key again.
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

}  // namespace

std::string ObjectKey(uint32_t partition, std::string_view bucket, std::string_view key) {
  std::string out = PartitionStart(partition);
  PutVarint32(&out, static_cast<uint32_t>(bucket.size()));
  out.append(bucket);
  out.append(key);
  return out;
}

Status ParseObjectKey(std::string_view skey, uint32_t* partition, std::string* bucket,
                      std::string* key) {
  if (skey.size() < 5 || skey[0] != kObjectTag) return Status::Corruption("not an object key");
  const uint32_t p = static_cast<uint32_t>(GetFixedBE(skey.substr(1, 4)));
  std::string_view rest = skey.substr(5);
  uint32_t bucket_len = 0;
  if (!GetVarint32(&rest, &bucket_len) || bucket_len > rest.size()) {
    return Status::Corruption("object key: bad bucket length");
  }
  if (partition != nullptr) *partition = p;
  if (bucket != nullptr) bucket->assign(rest.substr(0, bucket_len));
  if (key != nullptr) key->assign(rest.substr(bucket_len));
  return Status::OK();
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

}  // namespace ringkv
