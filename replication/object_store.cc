#include "replication/object_store.h"

#include <algorithm>
#include <string>

#include "causality/object_codec.h"
#include "storage/keys.h"
#include "storage/record.h"

namespace ringkv {

ObjectStore::ObjectStore(Storage* storage, bool sync, Scheduler* scheduler,
                         MetricsRegistry* metrics)
    : storage_(storage), sync_(sync), scheduler_(scheduler) {
  if (metrics != nullptr) {
    group_writes_ = metrics->AddHistogram(
        "ringkv_group_commit_writes",
        "Replica writes per group commit (one storage write, one fsync with --sync).", {}, 1);
    early_commits_ = metrics->AddCounter(
        "ringkv_group_commit_early_total",
        "Group commits written before the end of their loop turn: a read of a staged key, "
        "or a write that cannot wait.");
  }
}

ObjectStore::~ObjectStore() {
  if (task_ != 0) scheduler_->Cancel(task_);
}

const std::string* ObjectStore::StagedRecord(const std::string& skey) const {
  if (group_.records.empty()) return nullptr;
  auto it = group_.records.find(skey);
  return it == group_.records.end() ? nullptr : &group_.batch.ops()[it->second].value;
}

Result<std::optional<Object>> ObjectStore::Get(uint32_t partition, std::string_view bucket,
                                               std::string_view key) {
  last_read_.reset();
  std::string skey = ObjectKey(partition, bucket, key);
  std::string value;
  const std::string* record = StagedRecord(skey);
  if (record == nullptr) {
    Status st = storage_->Get(skey, &value);
    if (st.IsNotFound()) {
      last_read_ = LastRead{std::move(skey), false, 0};
      return std::optional<Object>();
    }
    if (!st.ok()) return st;
    record = &value;
  }
  auto body = DecodeRecord(*record);
  if (!body.ok()) return body.status();
  auto object = DecodeObject(*body);
  if (!object.ok()) return object.status();
  last_read_ = LastRead{std::move(skey), true, StoredChecksum(*record)};
  return std::optional<Object>(std::move(object).value());
}

Result<std::optional<Object>> ObjectStore::Read(uint32_t partition, std::string_view bucket,
                                                std::string_view key) {
  if (!group_.records.empty() && StagedRecord(ObjectKey(partition, bucket, key)) != nullptr) {
    if (early_commits_ != nullptr) early_commits_->Increment();
    RINGKV_RETURN_IF_ERROR(Commit());
  }
  return Get(partition, bucket, key);
}

Result<std::string> ObjectStore::StageWrite(uint32_t partition, std::string_view bucket,
                                            std::string_view key, const Object& object,
                                            bool grouped, std::string* skey) {
  std::optional<LastRead> last = std::move(last_read_);
  last_read_.reset();
  const std::string body = EncodeObject(object);
  const uint64_t checksum = RecordChecksum(body);
  // The key of the Get just before is this write's: its segment is hashed
  // once per request.
  const bool same_key = last && IsObjectKeyOf(last->skey, partition, bucket, key);
  *skey = same_key ? std::move(last->skey) : ObjectKey(partition, bucket, key);
  if (observer_ != nullptr) {
    // Nothing was written since that read (every write clears it), so the
    // key still holds what it found.
    const ReplacedObject replaced =
        same_key ? ReplacedObject{last->found, last->checksum} : ReplacedObject{};
    if (!same_key && grouped && StagedRecord(*skey) != nullptr) {
      // The observer would look in storage, which has not got the staged
      // write of the key yet.
      if (early_commits_ != nullptr) early_commits_->Increment();
      RINGKV_RETURN_IF_ERROR(Commit());
    }
    RINGKV_RETURN_IF_ERROR(observer_->Stage(partition, ObjectKeySegment(*skey), bucket, key,
                                            checksum, same_key ? &replaced : nullptr));
  }
  return EncodeRecord(body, checksum);
}

Status ObjectStore::Put(uint32_t partition, std::string_view bucket, std::string_view key,
                        const Object& object) {
  if (!group_.waiting.empty() && early_commits_ != nullptr) early_commits_->Increment();
  // In order: what this turn staged reaches storage before this write.
  RINGKV_RETURN_IF_ERROR(Commit());
  std::string skey;
  Result<std::string> record = StageWrite(partition, bucket, key, object, false, &skey);
  if (!record.ok()) return record.status();
  WriteBatch batch;
  batch.Put(skey, *record);
  Status st = storage_->Write(batch, sync_);
  if (observer_ != nullptr) observer_->Finish(st.ok());
  return st;
}

void ObjectStore::Put(uint32_t partition, std::string_view bucket, std::string_view key,
                      const Object& object, Committed committed) {
  if (scheduler_ == nullptr) {
    committed(Put(partition, bucket, key, object));
    return;
  }
  std::string skey;
  Result<std::string> record = StageWrite(partition, bucket, key, object, true, &skey);
  if (!record.ok()) {
    ready_.emplace_back(std::move(committed), record.status());
    Schedule();
    return;
  }
  // Straight into the group's batch, after anything StageWrite committed.
  group_.batch.Put(skey, *record);
  group_.records.insert_or_assign(std::move(skey), group_.batch.size() - 1);
  group_.observed = group_.observed || observer_ != nullptr;
  ++group_.writes;
  group_.waiting.push_back(std::move(committed));
  Schedule();
}

void ObjectStore::AfterPending(Committed committed) {
  if (scheduler_ == nullptr) {
    committed(Status::OK());
    return;
  }
  group_.waiting.push_back(std::move(committed));
  Schedule();
}

Status ObjectStore::Commit() {
  if (group_.writes == 0 && group_.waiting.empty()) return Status::OK();
  Group group = std::move(group_);
  group_ = Group{};
  Status st = group.batch.empty() ? Status::OK() : storage_->Write(group.batch, sync_);
  // The group's rows were staged one write after another; the observer
  // learns the outcome of all of them at once.
  if (group.observed && observer_ != nullptr) observer_->Finish(st.ok());
  if (!st.ok()) last_read_.reset();
  if (group_writes_ != nullptr && group.writes > 0) group_writes_->Observe(group.writes);
  for (Committed& fn : group.waiting) ready_.emplace_back(std::move(fn), st);
  if (!ready_.empty()) Schedule();
  return st;
}

void ObjectStore::Schedule() {
  if (task_ != 0) return;
  // A 0-delay task runs after the callbacks this turn already has due: by
  // then the turn's requests have staged their writes.
  task_ = scheduler_->RunAfter(0, [this] { OnTurnEnd(); });
}

void ObjectStore::OnTurnEnd() {
  task_ = 0;
  (void)Commit();
  // Swapped out first: a callback may stage the next group.
  std::vector<std::pair<Committed, Status>> ready;
  ready.swap(ready_);
  for (auto& [fn, st] : ready) fn(st);
}

void ObjectStore::set_observer(ObjectWriteObserver* observer) {
  (void)Commit();
  observer_ = observer;
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
  RINGKV_RETURN_IF_ERROR(Commit());
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
    const ReplacedObject removed{true, last->checksum};
    RINGKV_RETURN_IF_ERROR(observer_->StageRemove(partition, ObjectKeySegment(last->skey), bucket,
                                                  key, removed));
  }
  Status st = storage_->Write(batch, sync_);
  if (observer_ != nullptr) observer_->Finish(st.ok());
  RINGKV_RETURN_IF_ERROR(st);
  mint_floor_ = raised;
  return true;
}

}  // namespace ringkv
