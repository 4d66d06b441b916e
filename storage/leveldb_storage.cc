#include "storage/leveldb_storage.h"

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "storage/pread_env.h"

namespace ringkv {
namespace {

Status FromLevelDb(const leveldb::Status& s) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  if (s.IsCorruption()) return Status::Corruption(s.ToString());
  return Status::IOError(s.ToString());
}

leveldb::Slice ToSlice(std::string_view s) { return leveldb::Slice(s.data(), s.size()); }
std::string_view ToView(const leveldb::Slice& s) { return std::string_view(s.data(), s.size()); }

class LevelDbSnapshot : public Snapshot {
 public:
  LevelDbSnapshot(const Storage* engine, leveldb::DB* db)
      : Snapshot(engine), db_(db), snapshot_(db->GetSnapshot()) {}
  ~LevelDbSnapshot() override { db_->ReleaseSnapshot(snapshot_); }
  const leveldb::Snapshot* get() const { return snapshot_; }

 private:
  leveldb::DB* db_;
  const leveldb::Snapshot* snapshot_;
};

// Adds the range's bounds to LevelDB's iterator, and makes its errors final.
class LevelDbIterator : public Iterator {
 public:
  LevelDbIterator(std::unique_ptr<leveldb::Iterator> it, std::string begin, std::string end)
      : it_(std::move(it)), begin_(std::move(begin)), end_(std::move(end)) {}

  bool Valid() const override { return valid_; }
  void SeekToFirst() override { Seek(begin_); }
  void Seek(std::string_view target) override {
    if (!status_.ok()) return;
    it_->Seek(ToSlice(std::max(target, std::string_view(begin_))));
    Settle();
  }
  void Next() override {
    it_->Next();
    Settle();
  }
  std::string_view key() const override { return ToView(it_->key()); }
  std::string_view value() const override { return ToView(it_->value()); }
  Status status() const override { return status_; }

 private:
  void Settle() {
    // Checked even while LevelDB's iterator is still valid: it steps over a
    // table block that failed to read and carries on with the next, keeping
    // the error only in status(), which would silently drop that block's
    // keys.
    status_ = FromLevelDb(it_->status());
    valid_ = status_.ok() && it_->Valid() && (end_.empty() || ToView(it_->key()) < end_);
  }

  std::unique_ptr<leveldb::Iterator> it_;
  std::string begin_, end_;
  bool valid_ = false;
  Status status_;
};

class LevelDbStorageImpl : public Storage {
 public:
  LevelDbStorageImpl(std::unique_ptr<leveldb::Env> env, std::unique_ptr<leveldb::Cache> cache,
                     std::unique_ptr<const leveldb::FilterPolicy> filter,
                     std::unique_ptr<leveldb::DB> db, const LevelDbOptions& options)
      : env_(std::move(env)),
        cache_(std::move(cache)),
        filter_(std::move(filter)),
        db_(std::move(db)),
        options_(options) {}

  ~LevelDbStorageImpl() override {
    // The database uses the Env, the cache and the filter until it is closed.
    db_.reset();
    filter_.reset();
    cache_.reset();
    env_.reset();
  }

  Status Get(std::string_view key, std::string* value) override {
    leveldb::ReadOptions ro;
    ro.verify_checksums = options_.paranoid_checks;
    const leveldb::Status s = db_->Get(ro, ToSlice(key), value);
    if (s.IsNotFound()) return Status::NotFound();
    return FromLevelDb(s);
  }

  Status Write(const WriteBatch& batch, bool sync) override {
    leveldb::WriteBatch lb;
    for (const WriteBatch::Op& op : batch.ops()) {
      if (op.is_delete) {
        lb.Delete(op.key);
      } else {
        lb.Put(op.key, op.value);
      }
    }
    leveldb::WriteOptions wo;
    wo.sync = sync || options_.sync;
    return FromLevelDb(db_->Write(wo, &lb));
  }

  Status GetAt(const Snapshot& snapshot, std::string_view key, std::string* value) override {
    if (snapshot.engine() != this) return Status::InvalidArgument("snapshot of another storage");
    leveldb::ReadOptions ro;
    ro.verify_checksums = options_.paranoid_checks;
    ro.snapshot = static_cast<const LevelDbSnapshot&>(snapshot).get();
    const leveldb::Status s = db_->Get(ro, ToSlice(key), value);
    if (s.IsNotFound()) return Status::NotFound();
    return FromLevelDb(s);
  }

  std::unique_ptr<Snapshot> GetSnapshot() override {
    return std::make_unique<LevelDbSnapshot>(this, db_.get());
  }

  std::unique_ptr<Iterator> NewIterator(const IteratorOptions& options) override {
    leveldb::ReadOptions ro;
    ro.verify_checksums = options_.paranoid_checks;
    // Iterators serve bulk work (handoff, anti-entropy, transfers), which
    // should not evict the hot set.
    ro.fill_cache = false;
    if (options.snapshot != nullptr) {
      if (options.snapshot->engine() != this) {
        return NewErrorIterator(Status::InvalidArgument("snapshot of another storage"));
      }
      ro.snapshot = static_cast<const LevelDbSnapshot*>(options.snapshot)->get();
    }
    return std::make_unique<LevelDbIterator>(std::unique_ptr<leveldb::Iterator>(db_->NewIterator(ro)),
                                             options.begin, options.end);
  }

 private:
  std::unique_ptr<leveldb::Env> env_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;
  LevelDbOptions options_;
};

}  // namespace

Result<std::unique_ptr<Storage>> LevelDbStorage::Open(const std::string& path,
                                                      const LevelDbOptions& options) {
  // Tables read with pread rather than mapped: their pages then count in the
  // kernel's page cache, not in the node's resident set.
  std::unique_ptr<leveldb::Env> env = std::make_unique<PreadEnv>(leveldb::Env::Default());
  std::unique_ptr<leveldb::Cache> cache(leveldb::NewLRUCache(options.block_cache_bytes));
  // A get of a key that does not exist (every first write checks for an
  // object to merge with) then costs no table read.
  std::unique_ptr<const leveldb::FilterPolicy> filter(
      leveldb::NewBloomFilterPolicy(options.bloom_bits_per_key));
  leveldb::Options lo;
  lo.env = env.get();
  lo.create_if_missing = options.create_if_missing;
  lo.error_if_exists = options.error_if_exists;
  lo.paranoid_checks = options.paranoid_checks;
  lo.write_buffer_size = options.write_buffer_bytes;
  lo.compression = options.compression ? leveldb::kSnappyCompression : leveldb::kNoCompression;
  lo.block_cache = cache.get();
  if (options.bloom_bits_per_key > 0) lo.filter_policy = filter.get();
  leveldb::DB* raw = nullptr;
  const leveldb::Status s = leveldb::DB::Open(lo, path, &raw);
  if (!s.ok()) {
    // "does not exist" and "exists" are reported by LevelDB as InvalidArgument.
    if (s.IsInvalidArgument()) return Status::InvalidArgument(s.ToString());
    return FromLevelDb(s);
  }
  std::unique_ptr<Storage> storage = std::make_unique<LevelDbStorageImpl>(
      std::move(env), std::move(cache), std::move(filter), std::unique_ptr<leveldb::DB>(raw),
      options);
  return storage;
}

}  // namespace ringkv
