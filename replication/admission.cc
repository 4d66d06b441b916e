#include "replication/admission.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "causality/object_codec.h"
#include "causality/object_limits.h"

namespace ringkv {
namespace {

std::string Mib(size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

}  // namespace

Result<VersionVector> AdmitContext(std::string_view bytes, std::string_view bucket,
                                   std::string_view key) {
  Result<ClientContext> context = DecodeContext(bytes);
  if (!context.ok()) {
    return Status::InvalidArgument("malformed context: " + context.status().message());
  }
  RINGKV_RETURN_IF_ERROR(CheckContextKey(*context, bucket, key));
  if (Status st = CheckClockLimits(context->clock); !st.ok()) {
    return Status::InvalidArgument("context refused: " + st.message());
  }
  return std::move(context->clock);
}

Status AdmitCoordination(const Actor& self, const VersionVector& context, const Object* local) {
  const uint64_t claimed = context.Get(self);
  const uint64_t minted = local != nullptr ? local->context.Get(self) : 0;
  if (minted >= kMaxDotCounter) {
    return Status::InvalidArgument(self.node + " has no dot left to write this key with (its "
                                   "counter reached " + std::to_string(kMaxDotCounter) + ")");
  }
  if (claimed <= minted) return Status::OK();
  return Status::InvalidArgument(
      "context refused: it says " + self.node + " wrote this key " + std::to_string(claimed) +
      " times, but " + self.node + " has written it " + std::to_string(minted) +
      " times; read the key and write with the context of that read");
}

Status AdmitCoordinatedSize(const Object* local, const Object& updated, bool tombstone,
                            std::string_view bucket, std::string_view key) {
  const size_t size = ObjectSize(updated);
  if (size <= kMaxObjectBytes || tombstone) return Status::OK();
  if (local != nullptr && size <= ObjectSize(*local)) return Status::OK();
  return Status::ObjectTooLarge(
      "this write would make " + std::string(bucket) + "/" + std::string(key) + " " + Mib(size) +
      " of siblings, over the per-key cap of " + Mib(kMaxObjectBytes) +
      "; read the key and write with its context to replace them, or delete it");
}

Status AdmitSiblingCount(const Object* local, const Object& updated, uint32_t max_siblings,
                         std::string_view bucket, std::string_view key) {
  const size_t count = updated.siblings.size();
  if (count <= max_siblings) return Status::OK();
  if (local != nullptr && count <= local->siblings.size()) return Status::OK();
  return Status::TooManySiblings(
      "this write would give " + std::string(bucket) + "/" + std::string(key) + " " +
      std::to_string(count) + " siblings, over the bucket's cap of " +
      std::to_string(max_siblings) + " (max_siblings); read the key and write with its context "
      "to replace them, or give the bucket a merge resolver");
}

Status AdmitIfMatch(const Object* local, const VersionVector& context, std::string_view bucket,
                    std::string_view key) {
  if (local == nullptr) return Status::OK();
  const size_t unseen = std::count_if(local->siblings.begin(), local->siblings.end(),
                                      [&](const Sibling& s) { return !context.Covers(s.dot); });
  if (unseen == 0) return Status::OK();
  return Status::PreconditionFailed(
      std::string(bucket) + "/" + std::string(key) + " changed since the read: " +
      std::to_string(unseen) + " of its " + std::to_string(local->siblings.size()) +
      " siblings are not covered by the write's context; read it again and retry");
}

Status AdmitMergedSize(const Object* local, const Object& merged) {
  const size_t size = ObjectSize(merged);
  if (size <= kMaxMergedObjectBytes) return Status::OK();
  if (local != nullptr && size <= ObjectSize(*local)) return Status::OK();
  return Status::ObjectTooLarge("merging this copy would make the object " + Mib(size) +
                                ", over the limit of " + Mib(kMaxMergedObjectBytes));
}

Status AdmitTimestamp(int64_t timestamp_us, int64_t now_wall_us) {
  if (timestamp_us >= 0 && timestamp_us <= now_wall_us + kMaxClockAheadUs) return Status::OK();
  return Status::InvalidArgument("timestamp " + std::to_string(timestamp_us) +
                                 " us is negative or more than a day ahead of this node's "
                                 "clock (" + std::to_string(now_wall_us) + " us)");
}

Status AdmitTimestamps(const Object& object, int64_t now_wall_us) {
  for (const Sibling& s : object.siblings) {
    RINGKV_RETURN_IF_ERROR(AdmitTimestamp(s.timestamp_us, now_wall_us));
  }
  return Status::OK();
}

Status AdmitHintTarget(const NodeId& hint_for, const Ring& ring) {
  if (hint_for.empty()) return Status::OK();
  const auto& members = ring.members();
  if (std::find(members.begin(), members.end(), hint_for) != members.end()) return Status::OK();
  return Status::InvalidArgument("hint for " + hint_for + ", which is not a member of the ring");
}

}  // namespace ringkv
