#include "storage/memory_storage.h"

#include <algorithm>
#include <utility>

namespace ringkv {

class MemoryStorage::SnapshotImpl : public Snapshot {
 public:
  SnapshotImpl(const MemoryStorage* engine, std::shared_ptr<const Map> state)
      : Snapshot(engine), state_(std::move(state)) {}
  const std::shared_ptr<const Map>& state() const { return state_; }

 private:
  std::shared_ptr<const Map> state_;
};

class MemoryStorage::IteratorImpl : public Iterator {
 public:
  IteratorImpl(std::shared_ptr<const Map> state, std::string begin, std::string end)
      : state_(std::move(state)), begin_(std::move(begin)), end_(std::move(end)) {}

  bool Valid() const override { return valid_; }
  void SeekToFirst() override { Seek(begin_); }
  void Seek(std::string_view target) override {
    it_ = state_->lower_bound(std::max(target, std::string_view(begin_)));
    Settle();
  }
  void Next() override {
    ++it_;
    Settle();
  }
  std::string_view key() const override { return it_->first; }
  std::string_view value() const override { return it_->second; }
  Status status() const override { return Status::OK(); }

 private:
  void Settle() {
    valid_ = it_ != state_->end() && (end_.empty() || std::string_view(it_->first) < end_);
  }

  // Never written again: writes copy a shared map before changing it.
  std::shared_ptr<const Map> state_;
  std::string begin_, end_;
  Map::const_iterator it_;
  bool valid_ = false;
};

MemoryStorage::MemoryStorage() : live_(std::make_shared<Map>()) {}

void MemoryStorage::Apply(const WriteBatch& batch, Map* map) {
  for (const WriteBatch::Op& op : batch.ops()) {
    if (op.is_delete) {
      map->erase(op.key);
    } else {
      (*map)[op.key] = op.value;
    }
  }
}

MemoryStorage::Map* MemoryStorage::MutableLive() {
  if (live_.use_count() > 1) {
    live_ = std::make_shared<Map>(*live_);
    ++snapshot_copies_;
  }
  return live_.get();
}

Status MemoryStorage::Get(std::string_view key, std::string* value) {
  auto it = live_->find(key);
  if (it == live_->end()) return Status::NotFound();
  *value = it->second;
  return Status::OK();
}

Status MemoryStorage::GetAt(const Snapshot& snapshot, std::string_view key, std::string* value) {
  if (snapshot.engine() != this) {
    return Status::InvalidArgument("snapshot of another storage");
  }
  const Map& state = *static_cast<const SnapshotImpl&>(snapshot).state();
  auto it = state.find(key);
  if (it == state.end()) return Status::NotFound();
  *value = it->second;
  return Status::OK();
}

Status MemoryStorage::Write(const WriteBatch& batch, bool sync) {
  if (!write_error_.ok()) return write_error_;
  if (!batch.empty()) Apply(batch, MutableLive());
  if (!sync) {
    unsynced_.push_back(batch);
    return Status::OK();
  }
  for (const WriteBatch& earlier : unsynced_) Apply(earlier, &synced_);
  unsynced_.clear();
  Apply(batch, &synced_);
  return Status::OK();
}

std::unique_ptr<Snapshot> MemoryStorage::GetSnapshot() {
  return std::make_unique<SnapshotImpl>(this, live_);
}

std::unique_ptr<Iterator> MemoryStorage::NewIterator(const IteratorOptions& options) {
  std::shared_ptr<const Map> state = live_;
  if (options.snapshot != nullptr) {
    if (options.snapshot->engine() != this) {
      return NewErrorIterator(Status::InvalidArgument("snapshot of another storage"));
    }
    state = static_cast<const SnapshotImpl*>(options.snapshot)->state();
  }
  return std::make_unique<IteratorImpl>(std::move(state), options.begin, options.end);
}

void MemoryStorage::DropUnsynced() {
  live_ = std::make_shared<Map>(synced_);
  unsynced_.clear();
}

}  // namespace ringkv
