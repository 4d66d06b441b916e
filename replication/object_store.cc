#include "replication/object_store.h"

#include <string>

#include "causality/object_codec.h"
#include "storage/keys.h"
#include "storage/record.h"

namespace ringkv {

Result<std::optional<Object>> ObjectStore::Get(uint32_t partition, std::string_view bucket,
                                               std::string_view key) {
  std::string value;
  Status st = storage_->Get(ObjectKey(partition, bucket, key), &value);
  if (st.IsNotFound()) return std::optional<Object>();
  if (!st.ok()) return st;
  auto body = DecodeRecord(value);
  if (!body.ok()) return body.status();
  auto object = DecodeObject(*body);
  if (!object.ok()) return object.status();
  return std::optional<Object>(std::move(object).value());
}

Status ObjectStore::Put(uint32_t partition, std::string_view bucket, std::string_view key,
                        const Object& object) {
  WriteBatch batch;
  const std::string body = EncodeObject(object);
  batch.Put(ObjectKey(partition, bucket, key), EncodeRecord(body));
  if (observer_ == nullptr) return storage_->Write(batch, sync_);
  RINGKV_RETURN_IF_ERROR(observer_->Stage(partition, bucket, key, object, body, &batch));
  Status st = storage_->Write(batch, sync_);
  observer_->Finish(st.ok());
  return st;
}

}  // namespace ringkv
