#include "storage/meta.h"

#include <string>

#include "storage/keys.h"

namespace ringkv {
namespace {

std::string EncodeLE(uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}

uint64_t DecodeLE(const std::string& in) {
  uint64_t v = 0;
  for (size_t i = 0; i < in.size(); ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return v;
}

// Reads a meta value of exactly `size` bytes; *found is false when absent.
Status ReadMeta(Storage* storage, std::string_view name, size_t size, bool* found, uint64_t* v) {
  std::string value;
  const Status s = storage->Get(MetaKey(name), &value);
  *found = s.ok();
  if (s.IsNotFound()) return Status::OK();
  RINGKV_RETURN_IF_ERROR(s);
  if (value.size() != size) return Status::Corruption("meta " + std::string(name) + ": bad size");
  *v = DecodeLE(value);
  return Status::OK();
}

}  // namespace

Result<uint64_t> InitMeta(Storage* storage, uint64_t fresh_incarnation) {
  bool has_version = false, has_incarnation = false;
  uint64_t version = 0, incarnation = 0;
  RINGKV_RETURN_IF_ERROR(ReadMeta(storage, kMetaFormatVersion, 4, &has_version, &version));
  RINGKV_RETURN_IF_ERROR(ReadMeta(storage, kMetaIncarnation, 8, &has_incarnation, &incarnation));
  if (!has_version && !has_incarnation) {
    WriteBatch batch;
    batch.Put(MetaKey(kMetaFormatVersion), EncodeLE(kStorageFormatVersion, 4));
    batch.Put(MetaKey(kMetaIncarnation), EncodeLE(fresh_incarnation, 8));
    RINGKV_RETURN_IF_ERROR(storage->Write(batch, /*sync=*/true));
    return fresh_incarnation;
  }
  // Both are written in one batch, so one without the other is damage.
  if (!has_version || !has_incarnation) return Status::Corruption("meta: half-written metadata");
  if (version == 1) {
    return Status::InvalidArgument("storage format_version 1 is not migrated yet");
  }
  if (version != kStorageFormatVersion) {
    return Status::InvalidArgument("unsupported storage format_version " + std::to_string(version));
  }
  return incarnation;
}

}  // namespace ringkv
