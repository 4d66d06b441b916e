#include "storage/leveldb_storage.h"

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>

#include <memory>
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

  Status Scan(std::string_view start, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    leveldb::ReadOptions ro;
    ro.verify_checksums = options_.paranoid_checks;
    // Bulk scans (handoff, anti-entropy) should not evict the hot set.
    ro.fill_cache = false;
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
    for (it->Seek(ToSlice(start)); it->Valid(); it->Next()) {
      const std::string_view key = ToView(it->key());
      if (!end.empty() && key >= end) break;
      if (!fn(key, ToView(it->value()))) break;
    }
    return FromLevelDb(it->status());
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
