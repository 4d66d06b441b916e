#include "storage/record.h"

#include <string>

#include "common/hash.h"

namespace ringkv {

uint64_t RecordChecksum(std::string_view body) { return Hash64(body); }

std::string EncodeRecord(std::string_view body) { return EncodeRecord(body, Hash64(body)); }

std::string EncodeRecord(std::string_view body, uint64_t sum) {
  std::string out;
  out.reserve(kRecordHeaderSize + body.size());
  out.push_back(static_cast<char>(kRecordVersion));
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(sum >> (8 * i)));
  out.append(body);
  return out;
}

uint64_t StoredChecksum(std::string_view value) {
  uint64_t sum = 0;
  for (int i = 0; i < 8; ++i) sum |= static_cast<uint64_t>(static_cast<uint8_t>(value[1 + i])) << (8 * i);
  return sum;
}

Result<std::string_view> DecodeRecord(std::string_view value) {
  if (value.size() < kRecordHeaderSize) return Status::Corruption("record: truncated header");
  if (static_cast<uint8_t>(value[0]) != kRecordVersion) {
    return Status::Corruption("record: unknown version " +
                              std::to_string(static_cast<uint8_t>(value[0])));
  }
  const std::string_view body = value.substr(kRecordHeaderSize);
  if (Hash64(body) != StoredChecksum(value)) return Status::Corruption("record: checksum mismatch");
  return body;
}

}  // namespace ringkv
