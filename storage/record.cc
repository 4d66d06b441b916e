#include "storage/record.h"

#include <string>

#include "common/hash.h"

namespace ringkv {

std::string EncodeRecord(std::string_view body) {
  std::string out;
  out.reserve(kRecordHeaderSize + body.size());
  out.push_back(static_cast<char>(kRecordVersion));
  const uint64_t sum = Hash64(body);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(sum >> (8 * i)));
  out.append(body);
  return out;
}

Result<std::string_view> DecodeRecord(std::string_view value) {
  if (value.size() < kRecordHeaderSize) return Status::Corruption("record: truncated header");
  if (static_cast<uint8_t>(value[0]) != kRecordVersion) {
    return Status::Corruption("record: unknown version " +
                              std::to_string(static_cast<uint8_t>(value[0])));
  }
  uint64_t sum = 0;
  for (int i = 0; i < 8; ++i) sum |= static_cast<uint64_t>(static_cast<uint8_t>(value[1 + i])) << (8 * i);
  const std::string_view body = value.substr(kRecordHeaderSize);
  if (Hash64(body) != sum) return Status::Corruption("record: checksum mismatch");
  return body;
}

}  // namespace ringkv
