#include "replication/hint_store.h"

#include <utility>

#include "causality/object_codec.h"
#include "storage/keys.h"
#include "storage/record.h"

namespace ringkv {
namespace {

Result<Object> DecodeHintValue(std::string_view value) {
  auto body = DecodeRecord(value);
  if (!body.ok()) return body.status();
  return DecodeObject(*body);
}

}  // namespace

HintStore::HintStore(Storage* storage, bool sync, MetricsRegistry* metrics)
    : storage_(storage),
      sync_(sync),
      writes_(metrics->AddCounter("ringkv_hint_writes_total",
                                  "Hints stored or merged into a stored hint.")),
      corrupt_(metrics->AddCounter(
          "ringkv_hints_corrupt_total",
          "Stored hints skipped because they did not decode, once per pass over them.")),
      write_failures_(metrics->AddCounter(
          "ringkv_hint_write_failures_total",
          "Hints that failed to store (disk full, I/O error): replicas only anti-entropy "
          "can repair.")) {
  pending_gauge_ = metrics->AddGaugeFamilyCallback(
      "ringkv_hints_pending", "Hints stored and not yet handed to their target, per target.",
      [this] {
        std::vector<LabeledValue> out;
        for (const auto& [target, count] : counts_) {
          out.push_back({{{"target", target}}, static_cast<double>(count)});
        }
        return out;
      });
}

Status HintStore::Load() {
  counts_.clear();
  const std::string start(1, kHintTag);
  return storage_->Scan(start, PrefixEnd(start), [this](std::string_view k, std::string_view) {
    std::string target;
    if (ParseHintKey(k, &target, nullptr, nullptr, nullptr).ok()) {
      ++counts_[target];
    } else {
      corrupt_->Increment();
    }
    return true;
  });
}

Status HintStore::Add(const NodeId& target, uint32_t partition, std::string_view bucket,
                      std::string_view key, const Object& object) {
  if (target.empty() || target.size() > 255) {
    return Status::InvalidArgument("hint target must be 1..255 bytes");
  }
  const std::string hk = HintKey(target, partition, bucket, key);
  std::string old;
  Status st = storage_->Get(hk, &old);
  Object merged = object;
  bool existed = false;
  if (st.ok()) {
    auto prev = DecodeHintValue(old);
    // A damaged hint is replaced: the new object is the best copy we have.
    if (prev.ok()) {
      merged = Sync(*prev, object);
      if (merged == *prev) return Status::OK();
    }
    existed = true;
  } else if (!st.IsNotFound()) {
    write_failures_->Increment();
    return st;
  }
  WriteBatch batch;
  batch.Put(hk, EncodeRecord(EncodeObject(merged)));
  if (st = storage_->Write(batch, sync_); !st.ok()) {
    write_failures_->Increment();
    return st;
  }
  writes_->Increment();
  if (!existed) ++counts_[target];
  return Status::OK();
}

Result<std::vector<HintStore::Entry>> HintStore::List(const NodeId& target, size_t limit,
                                                      std::string_view after) {
  std::vector<Entry> out;
  const std::string prefix = HintPrefix(target);
  std::string start = after.empty() ? prefix : std::string(after) + '\0';
  Status st = storage_->Scan(start, PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    Entry e;
    e.target = target;
    auto object = DecodeHintValue(v);
    if (!ParseHintKey(k, nullptr, &e.partition, &e.bucket, &e.key).ok() || !object.ok()) {
      corrupt_->Increment();
      return true;
    }
    e.object = std::move(object).value();
    out.push_back(std::move(e));
    return out.size() < limit;
  });
  if (!st.ok()) return st;
  return out;
}

Result<bool> HintStore::RemoveDelivered(const Entry& delivered) {
  const std::string hk = HintKey(delivered.target, delivered.partition, delivered.bucket,
                                 delivered.key);
  std::string current;
  Status st = storage_->Get(hk, &current);
  if (st.IsNotFound()) return false;
  if (!st.ok()) return st;
  auto object = DecodeHintValue(current);
  // A write merged in after delivery started must be delivered too.
  if (object.ok() && *object != delivered.object) return false;
  RINGKV_RETURN_IF_ERROR(Remove(delivered.target, hk));
  return true;
}

Status HintStore::Remove(const NodeId& target, const std::string& hk) {
  WriteBatch batch;
  batch.Delete(hk);
  RINGKV_RETURN_IF_ERROR(storage_->Write(batch, sync_));
  auto it = counts_.find(target);
  if (it != counts_.end() && --it->second == 0) counts_.erase(it);
  if (removed_observer_) removed_observer_(hk);
  return Status::OK();
}

Result<bool> HintStore::DropCovered(uint32_t partition, std::string_view bucket,
                                    std::string_view key, const VersionVector& clock) {
  bool clear = true;
  std::vector<NodeId> targets;
  for (const auto& [target, count] : counts_) targets.push_back(target);
  for (const NodeId& target : targets) {
    const std::string hk = HintKey(target, partition, bucket, key);
    std::string current;
    Status st = storage_->Get(hk, &current);
    if (st.IsNotFound()) continue;
    if (!st.ok()) return st;
    clear = false;
    auto object = DecodeHintValue(current);
    // A hint that does not decode may hold anything: it keeps the key.
    if (!object.ok() || !clock.Descends(object->context)) continue;
    RINGKV_RETURN_IF_ERROR(Remove(target, hk));
  }
  return clear;
}

}  // namespace ringkv
