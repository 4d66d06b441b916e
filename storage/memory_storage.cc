#include "storage/memory_storage.h"

namespace ringkv {

void MemoryStorage::Apply(const WriteBatch& batch, Map* map) {
  for (const WriteBatch::Op& op : batch.ops()) {
    if (op.is_delete) {
      map->erase(op.key);
    } else {
      (*map)[op.key] = op.value;
    }
  }
}

Status MemoryStorage::Get(std::string_view key, std::string* value) {
  auto it = live_.find(key);
  if (it == live_.end()) return Status::NotFound();
  *value = it->second;
  return Status::OK();
}

Status MemoryStorage::Write(const WriteBatch& batch, bool sync) {
  if (!write_error_.ok()) return write_error_;
  Apply(batch, &live_);
  if (!sync) {
    unsynced_.push_back(batch);
    return Status::OK();
  }
  for (const WriteBatch& earlier : unsynced_) Apply(earlier, &synced_);
  unsynced_.clear();
  Apply(batch, &synced_);
  return Status::OK();
}

Status MemoryStorage::Scan(std::string_view start, std::string_view end,
                           const std::function<bool(std::string_view, std::string_view)>& fn) {
  for (auto it = live_.lower_bound(start); it != live_.end(); ++it) {
    if (!end.empty() && std::string_view(it->first) >= end) break;
    if (!fn(it->first, it->second)) break;
  }
  return Status::OK();
}

void MemoryStorage::DropUnsynced() {
  live_ = synced_;
  unsynced_.clear();
}

}  // namespace ringkv
