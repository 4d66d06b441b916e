#include "antientropy/trees.h"

#include <utility>

#include "antientropy/hashing.h"
#include "causality/object_codec.h"
#include "storage/keys.h"
#include "storage/record.h"

namespace ringkv::aae {
namespace {

uint32_t TreeKeyPartition(std::string_view skey) {
  const auto* p = reinterpret_cast<const unsigned char*>(skey.data());
  return (uint32_t{p[2]} << 24) | (uint32_t{p[3]} << 16) | (uint32_t{p[4]} << 8) | p[5];
}

// A stored object as the tree sees it. A record that does not decode
// counts as no object (leaf 0) everywhere, in writes and rebuilds alike, so
// the tree stays the XOR of the readable objects.
struct Stored {
  uint64_t leaf = 0;
  VersionVector clock;
  bool tombstone = false;
};

Result<Stored> DecodeStored(std::string_view bucket, std::string_view key,
                            std::string_view record) {
  Result<std::string_view> body = DecodeRecord(record);
  if (!body.ok()) return body.status();
  Result<Object> object = DecodeObject(*body);
  if (!object.ok()) return object.status();
  // The record's checksum is XXH3-64 of the body: the leaf's digest.
  return Stored{LeafOfDigest(bucket, key, StoredChecksum(record)),
                std::move(object->context), object->IsDeleted()};
}

// One stored object of a scan: its names, segment and what the tree sees.
// False for a key or record that does not parse.
bool ReadScanned(std::string_view skey, std::string_view record, AaeKeyEntry* e,
                 bool* tombstone) {
  if (!ParseObjectKey(skey, nullptr, &e->segment, &e->bucket, &e->key).ok()) return false;
  Result<Stored> stored = DecodeStored(e->bucket, e->key, record);
  if (!stored.ok()) return false;
  e->leaf = stored->leaf;
  e->clock = std::move(stored->clock);
  if (tombstone != nullptr) *tombstone = stored->tombstone;
  return true;
}

}  // namespace

Trees::Trees(TreesOptions options, Storage* storage, Scheduler* scheduler,
             MetricsRegistry* metrics)
    : options_(options),
      storage_(storage),
      scheduler_(scheduler),
      slots_(options.partitions),
      rebuilds_(metrics->AddCounter("ringkv_aae_tree_rebuilds_total",
                                    "Anti-entropy trees rebuilt from the objects.")),
      staging_errors_(metrics->AddCounter(
          "ringkv_aae_staging_errors_total",
          "Object writes refused because the object they replace could not be read.")),
      verify_errors_(metrics->AddCounter(
          "ringkv_aae_verify_errors_total",
          "Stored objects a tree rebuild could not read (bad key or undecodable record).")) {
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
  for (uint32_t p = 0; p < slots_.size(); ++p) {
    if (!slots_[p].trusted) Rebuild(p);
  }
  return Status::OK();
}

Status Trees::MarkTreesStale(Storage* storage) {
  std::string value;
  Status st = storage->Get(MarkerKey(), &value);
  if (st.IsNotFound()) return Status::OK();
  if (!st.ok()) return st;
  WriteBatch batch;
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

Status Trees::Stage(uint32_t partition, uint32_t segment, std::string_view bucket,
                    std::string_view key, uint64_t body_digest, const ReplacedObject* replaced) {
  if (partition >= slots_.size()) return Status::OK();
  uint64_t old_leaf = 0;
  if (replaced == nullptr) {
    Result<uint64_t> stored = StoredLeaf(partition, segment, bucket, key);
    if (!stored.ok()) return stored.status();
    old_leaf = *stored;
  }
  LeafHasher leaf(bucket, key);
  if (replaced != nullptr && replaced->found) old_leaf = leaf.Of(replaced->body_digest);
  staged_.push_back(Staged{partition, segment, old_leaf ^ leaf.Of(body_digest)});
  return Status::OK();
}

Status Trees::StageRemove(uint32_t partition, uint32_t segment, std::string_view bucket,
                          std::string_view key, const ReplacedObject& removed) {
  if (partition >= slots_.size() || !removed.found) return Status::OK();
  staged_.push_back(Staged{partition, segment, LeafOfDigest(bucket, key, removed.body_digest)});
  return Status::OK();
}

Result<uint64_t> Trees::StoredLeaf(uint32_t partition, uint32_t segment, std::string_view bucket,
                                   std::string_view key) {
  std::string record;
  Status st = storage_->Get(ObjectKey(partition, segment, bucket, key), &record);
  if (st.IsNotFound()) return uint64_t{0};
  if (!st.ok()) {
    staging_errors_->Increment();
    return st;
  }
  Result<Stored> stored = DecodeStored(bucket, key, record);
  return stored.ok() ? stored->leaf : 0;
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
  if (partition >= slots_.size() || slots_[partition].queued) return;
  slots_[partition].queued = true;
  queue_.push_back(partition);
  StartNext();
}

void Trees::StartNext() {
  if (job_ || queue_.empty()) return;
  const uint32_t partition = queue_.front();
  queue_.pop_front();
  Slot& slot = slots_[partition];
  slot.queued = false;
  Job job;
  job.partition = partition;
  job.snapshot = storage_->GetSnapshot();
  IteratorOptions range;
  range.snapshot = job.snapshot.get();
  range.begin = PartitionStart(partition);
  range.end = PartitionEnd(partition);
  // Taken in the same turn as the snapshot: every write after it XORs its
  // delta into this tree as well.
  slot.building = std::make_unique<HashTree>();
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
  AaeKeyEntry e;
  for (size_t n = 0; n < options_.rows_per_step && it.Valid(); ++n, it.Next()) {
    if (ReadScanned(it.key(), it.value(), &e, nullptr)) {
      slots_[job.partition].building->Apply(e.segment, e.leaf);
    } else {
      verify_errors_->Increment();
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
  if (ok) {
    slot.live = std::move(slot.building);
    slot.trusted = true;
    rebuilds_->Increment();
  } else {
    slot.building.reset();
    Rebuild(job.partition);
  }
  StartNext();
}

Status Trees::ReadSegments(uint32_t partition, const std::vector<uint32_t>& segments,
                           std::vector<AaeKeyEntry>* out) {
  for (uint32_t segment : segments) {
    if (segment >= kSegments) continue;
    RINGKV_RETURN_IF_ERROR(storage_->Scan(
        SegmentStart(partition, segment), SegmentEnd(partition, segment),
        [&](std::string_view k, std::string_view v) {
          AaeKeyEntry e;
          if (ReadScanned(k, v, &e, nullptr)) out->push_back(std::move(e));
          return true;
        }));
  }
  return Status::OK();
}

Status Trees::ReadTombstones(uint32_t partition, const std::string& cursor, size_t limit,
                             std::vector<AaeKeyEntry>* out, std::string* next) {
  // Objects read per call, tombstones or not: a round over a partition of
  // live keys stays short (each object is decoded) and resumes where it
  // stopped.
  constexpr size_t kMaxObjectsRead = 5'000;
  next->clear();
  size_t read = 0;
  const std::string start = cursor.empty() ? PartitionStart(partition) : cursor;
  return storage_->Scan(
      start, PartitionEnd(partition), [&](std::string_view k, std::string_view v) {
        if (out->size() >= limit || read >= kMaxObjectsRead) {
          *next = std::string(k);
          return false;
        }
        ++read;
        AaeKeyEntry e;
        bool tombstone = false;
        if (ReadScanned(k, v, &e, &tombstone) && tombstone) out->push_back(std::move(e));
        return true;
      });
}

Result<HashTree> Trees::Recompute(uint32_t partition) {
  HashTree tree;
  AaeKeyEntry e;
  Status st = storage_->Scan(PartitionStart(partition), PartitionEnd(partition),
                             [&](std::string_view k, std::string_view record) {
                               if (ReadScanned(k, record, &e, nullptr)) tree.Apply(e.segment, e.leaf);
                               return true;
                             });
  if (!st.ok()) return st;
  return tree;
}

}  // namespace ringkv::aae
