#include "replication/object_store.h"

#include <algorithm>
#include <string>

#include "causality/object_codec.h"
#include "storage/keys.h"
#include "storage/record.h"

namespace ringkv {

Result<std::optional<Object>> ObjectStore::Get(uint32_t partition, std::string_view bucket,
                                               std::string_view key) {
  last_read_.reset();
  std::string skey = ObjectKey(partition, bucket, key);
  std::string value;
  Status st = storage_->Get(skey, &value);
  if (st.IsNotFound()) {
    last_read_ = LastRead{std::move(skey), false, 0};
    return std::optional<Object>();
  }
  if (!st.ok()) return st;
  auto body = DecodeRecord(value);
  if (!body.ok()) return body.status();
  auto object = DecodeObject(*body);
  if (!object.ok()) return object.status();
  last_read_ = LastRead{std::move(skey), true, StoredChecksum(value)};
  return std::optional<Object>(std::move(object).value());
}

Status ObjectStore::Put(uint32_t partition, std::string_view bucket, std::string_view key,
                        const Object& object, const Object* read) {
  std::optional<LastRead> last = std::move(last_read_);
  last_read_.reset();
  WriteBatch batch;
  const std::string body = EncodeObject(object);
  const uint64_t checksum = RecordChecksum(body);
  // The key of the Get just before is this write's: its segment is hashed
  // once per request.
  const bool same_key = last && IsObjectKeyOf(last->skey, partition, bucket, key);
  std::string skey = same_key ? std::move(last->skey) : ObjectKey(partition, bucket, key);
  ReplacedObject replaced;
  bool known = false;
  if (observer_ != nullptr && same_key) {
    // Nothing was written since that read (every write clears it), so
    // the key still holds what it found.
    if (!last->found) {
      known = true;
    } else if (read != nullptr) {
      replaced = ReplacedObject{&read->context, last->checksum};
      known = true;
    }
  }
  batch.Put(skey, EncodeRecord(body, checksum));
  if (observer_ == nullptr) return storage_->Write(batch, sync_);
  RINGKV_RETURN_IF_ERROR(observer_->Stage(partition, ObjectKeySegment(skey), bucket, key, object,
                                          checksum, known ? &replaced : nullptr, &batch));
  Status st = storage_->Write(batch, sync_);
  last_read_.reset();
  observer_->Finish(st.ok());
  return st;
}

namespace {

std::string EncodeFloor(uint64_t floor) {
  std::string value(8, '\0');
  for (int i = 0; i < 8; ++i) value[i] = static_cast<char>(floor >> (8 * i));
  return value;
}

}  // namespace

Result<uint64_t> ObjectStore::MintFloor() {
  if (mint_floor_) return *mint_floor_;
  std::string stored;
  Status st = storage_->Get(MetaKey(kMetaMintFloor), &stored);
  uint64_t floor = 0;
  if (st.ok()) {
    if (stored.size() != sizeof(floor)) {
      return Status::Corruption("meta mint_floor is " + std::to_string(stored.size()) +
                                " bytes, expected 8");
    }
    for (int i = 7; i >= 0; --i) floor = (floor << 8) | static_cast<uint8_t>(stored[i]);
  } else if (!st.IsNotFound()) {
    return st;
  }
  mint_floor_ = floor;
  return floor;
}

Result<bool> ObjectStore::Reap(uint32_t partition, std::string_view bucket, std::string_view key,
                               const Object& expected, const Actor& self) {
  Result<std::optional<Object>> current = Get(partition, bucket, key);
  std::optional<LastRead> last = std::move(last_read_);
  last_read_.reset();
  if (!current.ok()) return current.status();
  if (!current->has_value() || **current != expected) return false;
  Result<uint64_t> floor = MintFloor();
  if (!floor.ok()) return floor.status();
  const uint64_t raised = std::max(*floor, expected.context.Get(self));
  WriteBatch batch;
  batch.Delete(last->skey);
  // In the removal's own batch: a crash can never keep the removal and
  // lose the floor that makes a later write to the key outrank the tombstone.
  batch.Put(MetaKey(kMetaMintFloor), EncodeFloor(raised));
  if (observer_ != nullptr) {
    const ReplacedObject removed{&expected.context, last->checksum};
    RINGKV_RETURN_IF_ERROR(observer_->StageRemove(partition, ObjectKeySegment(last->skey), bucket,
                                                  key, removed, &batch));
  }
  Status st = storage_->Write(batch, sync_);
  last_read_.reset();
  if (observer_ != nullptr) observer_->Finish(st.ok());
  RINGKV_RETURN_IF_ERROR(st);
  mint_floor_ = raised;
  return true;
}

}  // namespace ringkv
