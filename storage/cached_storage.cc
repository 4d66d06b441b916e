#include "storage/cached_storage.h"

#include <utility>

namespace ringkv {
namespace {

// Roughly what a list node, a hash node and two string headers cost.
constexpr size_t kEntryOverhead = 128;

}  // namespace

CachedStorage::CachedStorage(Storage* base, size_t capacity_bytes, MetricsRegistry* metrics,
                             std::string cached_prefix)
    : base_(base),
      capacity_(capacity_bytes),
      prefix_(std::move(cached_prefix)),
      hits_(metrics->AddCounter("ringkv_record_cache_hits_total",
                                "Record reads answered by the record cache.")),
      misses_(metrics->AddCounter("ringkv_record_cache_misses_total",
                                  "Record reads the record cache passed to the engine.")),
      evictions_(metrics->AddCounter(
          "ringkv_record_cache_evictions_total",
          "Records the record cache dropped, least recently used first, to stay within "
          "its capacity.")) {
  metrics->AddGauge("ringkv_record_cache_capacity_bytes", "Capacity of the record cache.")
      ->Set(static_cast<double>(capacity_bytes));
  bytes_gauge_ = metrics->AddGaugeCallback(
      "ringkv_record_cache_bytes", "Bytes charged to the records the cache holds.", {},
      [this] { return static_cast<double>(charged_); });
  entries_gauge_ = metrics->AddGaugeCallback(
      "ringkv_record_cache_entries", "Records (present or known absent) the cache holds.", {},
      [this] { return static_cast<double>(lru_.size()); });
}

size_t CachedStorage::Charge(const Entry& e) {
  return e.key.size() + e.value.size() + kEntryOverhead;
}

Status CachedStorage::Get(std::string_view key, std::string* value) {
  if (!Cached(key)) return base_->Get(key, value);
  auto it = index_.find(key);
  if (it != index_.end()) {
    hits_->Increment();
    lru_.splice(lru_.begin(), lru_, it->second);
    const Entry& e = *it->second;
    if (!e.present) return Status::NotFound();
    value->assign(e.value);
    return Status::OK();
  }
  misses_->Increment();
  Status st = base_->Get(key, value);
  if (st.ok()) {
    Insert(key, *value, true);
  } else if (st.IsNotFound()) {
    Insert(key, {}, false);
  }
  return st;
}

Status CachedStorage::Write(const WriteBatch& batch, bool sync) {
  Status st = base_->Write(batch, sync);
  for (const WriteBatch::Op& op : batch.ops()) {
    if (!Cached(op.key)) continue;
    if (!st.ok()) {
      Erase(op.key);
    } else {
      Insert(op.key, op.value, !op.is_delete);
    }
  }
  return st;
}

Status CachedStorage::GetAt(const Snapshot& snapshot, std::string_view key, std::string* value) {
  return base_->GetAt(snapshot, key, value);
}

std::unique_ptr<Snapshot> CachedStorage::GetSnapshot() { return base_->GetSnapshot(); }

std::unique_ptr<Iterator> CachedStorage::NewIterator(const IteratorOptions& options) {
  return base_->NewIterator(options);
}

void CachedStorage::Insert(std::string_view key, std::string_view value, bool present) {
  auto it = index_.find(key);
  if (key.size() + value.size() + kEntryOverhead > capacity_ / 16) {
    if (it != index_.end()) Erase(key);
    return;
  }
  if (it != index_.end()) {
    Entry& e = *it->second;
    charged_ -= Charge(e);
    e.value.assign(value);
    e.present = present;
    charged_ += Charge(e);
    lru_.splice(lru_.begin(), lru_, it->second);
  } else {
    lru_.push_front(Entry{std::string(key), std::string(value), present});
    index_.emplace(lru_.front().key, lru_.begin());
    charged_ += Charge(lru_.front());
  }
  while (charged_ > capacity_ && !lru_.empty()) {
    const Entry& victim = lru_.back();
    charged_ -= Charge(victim);
    index_.erase(victim.key);
    lru_.pop_back();
    evictions_->Increment();
  }
}

void CachedStorage::Erase(std::string_view key) {
  auto it = index_.find(key);
  if (it == index_.end()) return;
  charged_ -= Charge(*it->second);
  List::iterator entry = it->second;
  index_.erase(it);
  lru_.erase(entry);
}

}  // namespace ringkv
