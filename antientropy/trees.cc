#include "antientropy/trees.h"

#include <utility>

#include "antientropy/hashing.h"
#include "causality/object_codec.h"
#include "common/hash.h"
#include "storage/keys.h"
#include "storage/record.h"

namespace ringkv::aae {
namespace {

uint32_t TreeKeyPartition(std::string_view skey) {
  const auto* p = reinterpret_cast<const unsigned char*>(skey.data());
  return (uint32_t{p[2]} << 24) | (uint32_t{p[3]} << 16) | (uint32_t{p[4]} << 8) | p[5];
}

// The leaf of a stored row; a row that does not decode counts as no row
// (leaf 0) everywhere, in Stage and in rebuilds alike, so the tree stays
// the XOR of the readable rows until a verification rewrites it.
uint64_t LeafOfRow(std::string_view value) {
  Result<IndexEntry> entry = DecodeIndexEntry(value);
  return entry.ok() ? entry->leaf : 0;
}

}  // namespace

Trees::Trees(TreesOptions options, Storage* storage, Scheduler* scheduler,
             MetricsRegistry* metrics)
    : options_(options),
      storage_(storage),
      scheduler_(scheduler),
      slots_(options.partitions),
      rebuilds_(metrics->AddCounter("ringkv_aae_tree_rebuilds_total",
                                    "Anti-entropy trees rebuilt from the segment index.")),
      index_repairs_(metrics->AddCounter(
          "ringkv_aae_index_repairs_total",
          "Segment index rows rewritten or deleted because they disagreed with the objects.")),
      staging_errors_(metrics->AddCounter(
          "ringkv_aae_staging_errors_total",
          "Object writes refused because their index row could not be read.")),
      verify_errors_(metrics->AddCounter(
          "ringkv_aae_verify_errors_total",
          "Objects or index rows a verification could not check (undecodable, read error).")) {
  building_gauge_ = metrics->AddGaugeCallback(
      "ringkv_aae_trees_building", "Anti-entropy trees not trusted yet (being rebuilt).", {},
      [this] {
        double n = 0;
        for (const Slot& s : slots_) n += s.trusted ? 0 : 1;
        return n;
      });
  memory_gauge_ = metrics->AddGaugeCallback(
      "ringkv_aae_tree_memory_bytes", "Memory held by this node's anti-entropy trees.", {},
      [this] {
        double n = 0;
        for (const Slot& s : slots_) {
          if (s.live) n += static_cast<double>(s.live->memory_bytes());
          if (s.building) n += static_cast<double>(s.building->memory_bytes());
        }
        return n;
      });
}

Trees::~Trees() {
  if (timer_ != 0) scheduler_->Cancel(timer_);
}

Status Trees::Open() {
  std::string marker;
  Status st = storage_->Get(MarkerKey(), &marker);
  if (!st.ok() && !st.IsNotFound()) return st;
  const bool clean = st.ok() && MarkerCurrent(marker);
  std::string gap_value;
  Status gap = storage_->Get(GapKey(), &gap_value);
  if (!gap.ok() && !gap.IsNotFound()) return gap;
  WriteBatch forget;
  forget.Delete(MarkerKey());
  std::vector<uint32_t> corrupt;
  RINGKV_RETURN_IF_ERROR(
      storage_->Scan(TreeRangeStart(), TreeRangeEnd(), [&](std::string_view k, std::string_view v) {
        forget.Delete(k);
        if (!clean || k.size() != 6) return true;
        const uint32_t p = TreeKeyPartition(k);
        if (p >= slots_.size()) return true;
        Result<std::unique_ptr<HashTree>> tree = DecodeTreeImage(v);
        if (tree.ok()) {
          slots_[p].live = std::move(tree).value();
        } else {
          corrupt.push_back(p);
        }
        return true;
      }));
  for (uint32_t p = 0; p < slots_.size(); ++p) {
    Slot& s = slots_[p];
    if (clean) {
      if (!s.live) s.live = std::make_unique<HashTree>();
      s.trusted = true;
    } else {
      s.live.reset();
      s.trusted = false;
    }
  }
  // From here on a crash must find no marker: the trees in memory move on.
  RINGKV_RETURN_IF_ERROR(storage_->Write(forget, /*sync=*/true));
  for (uint32_t p : corrupt) {
    slots_[p].live.reset();
    slots_[p].trusted = false;
  }
  if (gap.ok()) {
    for (uint32_t p = 0; p < slots_.size(); ++p) {
      slots_[p].live.reset();
      slots_[p].trusted = false;
      slots_[p].gap = true;
      ++gaps_left_;
      Verify(p);
    }
    return Status::OK();
  }
  for (uint32_t p = 0; p < slots_.size(); ++p) {
    if (!slots_[p].trusted) Rebuild(p);
  }
  return Status::OK();
}

Status Trees::MarkIndexIncomplete(Storage* storage) {
  std::string value;
  Status st = storage->Get(GapKey(), &value);
  if (st.ok()) return Status::OK();
  if (!st.IsNotFound()) return st;
  WriteBatch batch;
  batch.Put(GapKey(), "");
  batch.Delete(MarkerKey());
  return storage->Write(batch, /*sync=*/true);
}

Status Trees::Save() {
  for (const Slot& s : slots_) {
    if (!s.trusted || !s.live) return Status::OK();
  }
  WriteBatch batch;
  for (uint32_t p = 0; p < slots_.size(); ++p) {
    if (slots_[p].live->top() == 0 && *slots_[p].live == HashTree()) continue;
    batch.Put(TreeKey(p), EncodeTreeImage(*slots_[p].live));
  }
  batch.Put(MarkerKey(), EncodeMarker());
  return storage_->Write(batch, /*sync=*/true);
}

Status Trees::Stage(uint32_t partition, std::string_view bucket, std::string_view key,
                    const Object& object, uint64_t body_digest, const ReplacedObject* replaced,
                    WriteBatch* batch) {
  if (partition >= slots_.size()) return Status::OK();
  const uint64_t key_hash = KeyHash(bucket, key);
  IndexEntry row{LeafOfDigest(bucket, key, key_hash, object.context, body_digest),
                 object.context, object.IsDeleted()};
  std::optional<uint64_t> old_leaf;
  if (replaced != nullptr) {
    old_leaf = replaced->context == nullptr
                   ? 0
                   : LeafOfDigest(bucket, key, key_hash, *replaced->context,
                                  replaced->body_digest);
  }
  return StageRow(partition, bucket, key, &row, old_leaf, batch);
}

Status Trees::StageRemove(uint32_t partition, std::string_view bucket, std::string_view key,
                          WriteBatch* batch) {
  return StageRow(partition, bucket, key, nullptr, std::nullopt, batch);
}

Status Trees::StageRow(uint32_t partition, std::string_view bucket, std::string_view key,
                       const IndexEntry* row, std::optional<uint64_t> old_leaf,
                       WriteBatch* batch) {
  if (partition >= slots_.size()) return Status::OK();
  const uint32_t segment = SegmentOf(bucket, key);
  std::string ikey = IndexKey(partition, segment, bucket, key);
  if (!old_leaf) {
    std::string old;
    Status st = storage_->Get(ikey, &old);
    if (!st.ok() && !st.IsNotFound()) {
      staging_errors_->Increment();
      return st;
    }
    old_leaf = st.ok() ? LeafOfRow(old) : 0;
  }
  if (row != nullptr) {
    batch->Put(ikey, EncodeIndexEntry(*row));
  } else {
    batch->Delete(ikey);
  }
  staged_.push_back(Staged{partition, segment, *old_leaf ^ (row != nullptr ? row->leaf : 0)});
  return Status::OK();
}

void Trees::Finish(bool committed) {
  std::vector<Staged> staged;
  staged.swap(staged_);
  for (const Staged& s : staged) {
    if (committed) {
      ApplyDelta(s.partition, s.segment, s.delta);
    } else {
      // A failed write may or may not have landed: recount the partition.
      Rebuild(s.partition);
    }
  }
}

void Trees::ApplyDelta(uint32_t partition, uint32_t segment, uint64_t delta) {
  Slot& slot = slots_[partition];
  if (slot.live) slot.live->Apply(segment, delta);
  if (slot.building) slot.building->Apply(segment, delta);
}

const HashTree* Trees::Trusted(uint32_t partition) const {
  if (partition >= slots_.size() || !slots_[partition].trusted) return nullptr;
  return slots_[partition].live.get();
}

const HashTree* Trees::Current(uint32_t partition) const {
  if (partition >= slots_.size()) return nullptr;
  const Slot& s = slots_[partition];
  return s.live ? s.live.get() : s.building.get();
}

bool Trees::trusted(uint32_t partition) const { return Trusted(partition) != nullptr; }

void Trees::Rebuild(uint32_t partition) {
  if (partition >= slots_.size() || slots_[partition].queued_index) return;
  slots_[partition].queued_index = true;
  queue_.emplace_back(partition, JobKind::kIndex);
  StartNext();
}

void Trees::Verify(uint32_t partition) {
  if (partition >= slots_.size() || slots_[partition].queued_objects) return;
  slots_[partition].queued_objects = true;
  queue_.emplace_back(partition, JobKind::kObjects);
  StartNext();
}

void Trees::StartNext() {
  if (job_ || queue_.empty()) return;
  auto [partition, kind] = queue_.front();
  queue_.pop_front();
  Slot& slot = slots_[partition];
  Job job;
  job.partition = partition;
  job.kind = kind;
  job.snapshot = storage_->GetSnapshot();
  IteratorOptions range;
  range.snapshot = job.snapshot.get();
  if (kind == JobKind::kObjects) {
    slot.queued_objects = false;
    range.begin = PartitionStart(partition);
    range.end = PartitionEnd(partition);
  } else {
    range.begin = IndexPartitionStart(partition);
    range.end = IndexPartitionEnd(partition);
  }
  if (kind == JobKind::kIndex) {
    slot.queued_index = false;
    // Taken in the same turn as the snapshot: every write after it XORs
    // its delta into this tree as well.
    slot.building = std::make_unique<HashTree>();
  }
  job.it = storage_->NewIterator(range);
  job.it->SeekToFirst();
  job_ = std::move(job);
  ScheduleStep();
}

void Trees::ScheduleStep() {
  timer_ = scheduler_->RunAfter(options_.step_pause_us, [this] {
    timer_ = 0;
    Step();
  });
}

void Trees::Step() {
  Job& job = *job_;
  Iterator& it = *job.it;
  for (size_t n = 0; n < options_.rows_per_step && it.Valid(); ++n, it.Next()) {
    switch (job.kind) {
      case JobKind::kIndex: {
        uint32_t segment = 0;
        if (ParseIndexKey(it.key(), nullptr, &segment, nullptr, nullptr).ok()) {
          slots_[job.partition].building->Apply(segment, LeafOfRow(it.value()));
        }
        break;
      }
      case JobKind::kObjects:
        if (!CheckObject(it.key(), it.value()).ok()) verify_errors_->Increment();
        break;
      case JobKind::kOrphans:
        if (!CheckRow(it.key(), it.value()).ok()) verify_errors_->Increment();
        break;
    }
  }
  if (it.Valid()) {
    ScheduleStep();
    return;
  }
  FinishJob();
}

void Trees::FinishJob() {
  Job job = std::move(*job_);
  job_.reset();
  Slot& slot = slots_[job.partition];
  const bool ok = job.it->status().ok();
  job.it.reset();
  job.snapshot.reset();
  switch (job.kind) {
    case JobKind::kIndex:
      if (ok) {
        slot.live = std::move(slot.building);
        slot.trusted = true;
        rebuilds_->Increment();
      } else {
        slot.building.reset();
        queue_.emplace_back(job.partition, JobKind::kIndex);
        slot.queued_index = true;
      }
      break;
    case JobKind::kObjects:
      queue_.emplace_back(job.partition, JobKind::kOrphans);
      break;
    case JobKind::kOrphans:
      if (slot.gap) {
        slot.gap = false;
        if (--gaps_left_ == 0) {
          WriteBatch done;
          done.Delete(GapKey());
          if (!storage_->Write(done, /*sync=*/true).ok()) verify_errors_->Increment();
        }
      }
      // The index now matches the objects; recount the tree from it, which
      // also clears any damage to the tree in memory.
      if (!slot.queued_index) {
        slot.queued_index = true;
        queue_.emplace_back(job.partition, JobKind::kIndex);
      }
      break;
  }
  StartNext();
}

Status Trees::CheckObject(std::string_view skey, std::string_view record) {
  uint32_t partition = 0;
  std::string bucket, key;
  RINGKV_RETURN_IF_ERROR(ParseObjectKey(skey, &partition, &bucket, &key));
  Result<std::string_view> body = DecodeRecord(record);
  if (!body.ok()) return body.status();
  Result<Object> object = DecodeObject(*body);
  if (!object.ok()) return object.status();
  const uint32_t segment = SegmentOf(bucket, key);
  const std::string ikey = IndexKey(partition, segment, bucket, key);
  IndexEntry expected{LeafOf(bucket, key, object->context, *body), object->context,
                      object->IsDeleted()};
  std::string row;
  Status st = storage_->GetAt(*job_->snapshot, ikey, &row);
  if (st.ok()) {
    Result<IndexEntry> entry = DecodeIndexEntry(row);
    if (entry.ok() && entry->leaf == expected.leaf && entry->tombstone == expected.tombstone) {
      return Status::OK();
    }
  }
  if (!st.ok() && !st.IsNotFound()) return st;
  // Only if the object is still what the snapshot saw: a later write has
  // written its own row since.
  std::string now;
  RINGKV_RETURN_IF_ERROR(storage_->Get(skey, &now));
  if (now != record) return Status::OK();
  return RewriteRow(partition, segment, ikey, &expected);
}

Status Trees::CheckRow(std::string_view skey, std::string_view value) {
  uint32_t partition = 0, segment = 0;
  std::string bucket, key;
  RINGKV_RETURN_IF_ERROR(ParseIndexKey(skey, &partition, &segment, &bucket, &key));
  const bool misplaced = SegmentOf(bucket, key) != segment || partition != job_->partition;
  std::string object;
  Status st = misplaced ? Status::NotFound("") :
                          storage_->GetAt(*job_->snapshot, ObjectKey(partition, bucket, key), &object);
  if (st.ok()) return Status::OK();
  if (!st.IsNotFound()) return st;
  if (!misplaced) {
    st = storage_->Get(ObjectKey(partition, bucket, key), &object);
    if (!st.IsNotFound()) return st;  // written since: it has its own row
  }
  return RewriteRow(job_->partition, segment, skey, nullptr);
}

Status Trees::RewriteRow(uint32_t partition, uint32_t segment, std::string_view index_key,
                         const IndexEntry* row) {
  std::string old;
  Status st = storage_->Get(index_key, &old);
  if (!st.ok() && !st.IsNotFound()) return st;
  const uint64_t old_leaf = st.ok() ? LeafOfRow(old) : 0;
  WriteBatch batch;
  if (row != nullptr) {
    batch.Put(index_key, EncodeIndexEntry(*row));
  } else {
    batch.Delete(index_key);
  }
  RINGKV_RETURN_IF_ERROR(storage_->Write(batch, options_.sync));
  ApplyDelta(partition, segment % kSegments, old_leaf ^ (row != nullptr ? row->leaf : 0));
  index_repairs_->Increment();
  return Status::OK();
}

Status Trees::ReadSegments(uint32_t partition, const std::vector<uint32_t>& segments,
                           std::vector<AaeKeyEntry>* out) {
  for (uint32_t segment : segments) {
    RINGKV_RETURN_IF_ERROR(storage_->Scan(
        IndexSegmentStart(partition, segment), IndexSegmentEnd(partition, segment),
        [&](std::string_view k, std::string_view v) {
          AaeKeyEntry e;
          e.segment = segment;
          Result<IndexEntry> row = DecodeIndexEntry(v);
          if (!row.ok() || !ParseIndexKey(k, nullptr, nullptr, &e.bucket, &e.key).ok()) {
            return true;
          }
          e.leaf = row->leaf;
          e.clock = std::move(row->clock);
          out->push_back(std::move(e));
          return true;
        }));
  }
  return Status::OK();
}

Status Trees::ReadTombstones(uint32_t partition, const std::string& cursor, size_t limit,
                             std::vector<AaeKeyEntry>* out, std::string* next) {
  // Rows read per call, tombstones or not: a round over a partition of
  // live keys stays short and resumes where it stopped.
  constexpr size_t kMaxRowsRead = 20'000;
  next->clear();
  size_t read = 0;
  const std::string start = cursor.empty() ? IndexPartitionStart(partition) : cursor;
  Status st = storage_->Scan(
      start, IndexPartitionEnd(partition), [&](std::string_view k, std::string_view v) {
        if (out->size() >= limit || read >= kMaxRowsRead) {
          *next = std::string(k);
          return false;
        }
        ++read;
        AaeKeyEntry e;
        Result<IndexEntry> row = DecodeIndexEntry(v);
        if (!row.ok() || !row->tombstone ||
            !ParseIndexKey(k, nullptr, &e.segment, &e.bucket, &e.key).ok()) {
          return true;
        }
        e.leaf = row->leaf;
        e.clock = std::move(row->clock);
        out->push_back(std::move(e));
        return true;
      });
  return st;
}

Result<HashTree> Trees::Recompute(uint32_t partition) {
  HashTree tree;
  Status st = storage_->Scan(
      PartitionStart(partition), PartitionEnd(partition),
      [&](std::string_view k, std::string_view record) {
        std::string bucket, key;
        if (!ParseObjectKey(k, nullptr, &bucket, &key).ok()) return true;
        Result<std::string_view> body = DecodeRecord(record);
        if (!body.ok()) return true;
        Result<Object> object = DecodeObject(*body);
        if (!object.ok()) return true;
        tree.Apply(SegmentOf(bucket, key), LeafOf(bucket, key, object->context, *body));
        return true;
      });
  if (!st.ok()) return st;
  return tree;
}

}  // namespace ringkv::aae
