#include "storage/format_migration.h"

#include <string_view>
#include <vector>

#include "storage/keys.h"
#include "storage/meta.h"

namespace ringkv {
namespace {

// DO NOT CHANGE: the aside range of phase 1 and the phase values.
constexpr char kAsideTag = 'l';
constexpr std::string_view kMetaMigration = "migration";
constexpr char kPhaseAside = '1';
constexpr char kPhaseRekey = '2';
// A batch also ends at this many bytes, for large values.
constexpr size_t kBatchBytes = size_t{4} << 20;

// Format 1's key grammar (docs/storage-format.md keeps it): the parts of
// 'o' partition:uint32be varint32(len(bucket)) bucket key.
bool ParseV1ObjectKey(std::string_view skey, uint32_t* partition, std::string_view* bucket,
                      std::string_view* key) {
  if (skey.size() < 6 || skey[0] != kObjectTag) return false;
  uint32_t p = 0;
  for (int i = 1; i <= 4; ++i) p = (p << 8) | static_cast<uint8_t>(skey[i]);
  std::string_view rest = skey.substr(5);
  uint32_t len = 0;
  if (!GetVarint32(&rest, &len) || len > rest.size()) return false;
  *partition = p;
  *bucket = rest.substr(0, len);
  *key = rest.substr(len);
  return true;
}

// The format-2 key of format-1 object or hint key `v1`; empty when it does
// not parse.
std::string Rekey(std::string_view v1) {
  uint32_t partition = 0;
  std::string_view bucket, key;
  if (!v1.empty() && v1[0] == kHintTag) {
    if (v1.size() < 2) return "";
    const size_t len = static_cast<uint8_t>(v1[1]);
    if (v1.size() < 2 + len || !ParseV1ObjectKey(v1.substr(2 + len), &partition, &bucket, &key)) {
      return "";
    }
    return HintKey(v1.substr(2, len), partition, bucket, key);
  }
  if (!ParseV1ObjectKey(v1, &partition, &bucket, &key)) return "";
  return ObjectKey(partition, bucket, key);
}

class Migration {
 public:
  Migration(Storage* storage, const FormatMigrationOptions& options)
      : storage_(storage), options_(options) {}

  Status Run() {
    std::string version;
    Status st = storage_->Get(MetaKey(kMetaFormatVersion), &version);
    if (st.IsNotFound()) return Status::OK();
    RINGKV_RETURN_IF_ERROR(st);
    if (version != std::string("\x01\x00\x00\x00", 4)) return Status::OK();
    std::string phase;
    st = storage_->Get(MetaKey(kMetaMigration), &phase);
    if (!st.ok() && !st.IsNotFound()) return st;
    if (st.ok() && phase != std::string(1, kPhaseAside) && phase != std::string(1, kPhaseRekey)) {
      return Status::Corruption("meta migration: unknown phase");
    }
    if (st.IsNotFound() || phase[0] == kPhaseAside) {
      Info("storage format 1 -> 2: phase 1 of 2, setting the format-1 objects and hints aside");
      RINGKV_RETURN_IF_ERROR(SetAside());
      WriteBatch next;
      next.Put(MetaKey(kMetaMigration), std::string(1, kPhaseRekey));
      RINGKV_RETURN_IF_ERROR(storage_->Write(next, /*sync=*/true));
      Info("storage format 1 -> 2: phase 1 done, " + std::to_string(moved_) + " keys set aside, " +
           std::to_string(dropped_) + " index rows deleted");
    }
    moved_ = 0;
    Info("storage format 1 -> 2: phase 2 of 2, writing objects and hints under format-2 keys");
    RINGKV_RETURN_IF_ERROR(RekeyAside());
    WriteBatch done;
    done.Put(MetaKey(kMetaFormatVersion), std::string("\x02\x00\x00\x00", 4));
    done.Delete(MetaKey(kMetaMigration));
    RINGKV_RETURN_IF_ERROR(storage_->Write(done, /*sync=*/true));
    static_assert(kStorageFormatVersion == 2, "the migration ends at the current version");
    Info("storage format 1 -> 2: done, " + std::to_string(moved_) + " keys rewritten" +
         (unparsed_ > 0 ? ", " + std::to_string(unparsed_) +
                              " keys that are no format-1 key left under 'l'"
                        : ""));
    return Status::OK();
  }

 private:
  // Phase 1: 'o' and 'h' keys to 'l' key; the index rows ('a' 'i') and the
  // gap flag ('a' 'g') of format 1 deleted.
  Status SetAside() {
    for (const auto& [begin, end] : std::vector<std::pair<std::string, std::string>>{
             {"o", "p"}, {"h", "i"}, {"ai", "aj"}, {"ag", std::string("ag\0", 3)}}) {
      const bool index = begin[0] == 'a';
      RINGKV_RETURN_IF_ERROR(Move(begin, end, [&](std::string_view k, std::string_view v,
                                                 WriteBatch* batch) {
        batch->Delete(k);
        if (index) {
          ++dropped_;
          return;
        }
        std::string aside(1, kAsideTag);
        aside.append(k);
        batch->Put(aside, v);
        Count();
      }));
    }
    return Status::OK();
  }

  // Phase 2: each 'l' key to its format-2 key.
  Status RekeyAside() {
    const std::string begin(1, kAsideTag), end(1, kAsideTag + 1);
    return Move(begin, end, [&](std::string_view k, std::string_view v, WriteBatch* batch) {
      const std::string rekeyed = Rekey(k.substr(1));
      if (rekeyed.empty()) {
        ++unparsed_;
        return;
      }
      batch->Put(rekeyed, v);
      batch->Delete(k);
      Count();
    });
  }

  // Runs `fn` on every key of [begin, end) as it was when the pass began,
  // committing its batch every batch_keys keys or kBatchBytes bytes.
  template <typename Fn>
  Status Move(const std::string& begin, const std::string& end, Fn fn) {
    IteratorOptions range;
    range.begin = begin;
    range.end = end;
    std::unique_ptr<Iterator> it = storage_->NewIterator(range);
    WriteBatch batch;
    size_t keys = 0, bytes = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      fn(it->key(), it->value(), &batch);
      ++keys;
      bytes += it->key().size() + it->value().size();
      if (keys >= options_.batch_keys || bytes >= kBatchBytes) {
        RINGKV_RETURN_IF_ERROR(storage_->Write(batch, /*sync=*/false));
        batch = WriteBatch();
        keys = bytes = 0;
      }
    }
    RINGKV_RETURN_IF_ERROR(it->status());
    // Synced: the phase's end, written next, must never outlive its moves.
    return storage_->Write(batch, /*sync=*/true);
  }

  void Count() {
    if (++moved_ % options_.progress_every == 0) {
      Info("storage format 1 -> 2: " + std::to_string(moved_) + " keys moved");
    }
  }

  void Info(const std::string& line) {
    if (options_.info) options_.info(line);
  }

  Storage* storage_;
  const FormatMigrationOptions& options_;
  uint64_t moved_ = 0;
  uint64_t dropped_ = 0;
  uint64_t unparsed_ = 0;
};

}  // namespace

Status MigrateStorageFormat(Storage* storage, const FormatMigrationOptions& options) {
  return Migration(storage, options).Run();
}

}  // namespace ringkv
