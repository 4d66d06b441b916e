#include "causality/object_limits.h"

#include <string>

namespace ringkv {
namespace {

Status CheckActor(const Actor& actor, uint64_t counter, const char* what) {
  if (actor.node.empty() || actor.node.size() > kMaxNodeIdBytes) {
    return Status::InvalidArgument(std::string(what) + " names an actor whose node id is " +
                                   std::to_string(actor.node.size()) + " bytes (1.." +
                                   std::to_string(kMaxNodeIdBytes) + " allowed)");
  }
  if (counter > kMaxDotCounter) {
    return Status::InvalidArgument(std::string(what) + " counter " + std::to_string(counter) +
                                   " of " + actor.node + " exceeds the limit of " +
                                   std::to_string(kMaxDotCounter));
  }
  return Status::OK();
}

}  // namespace

size_t ObjectSize(const Object& object) {
  size_t bytes = 64;
  for (const auto& [actor, counter] : object.context.entries()) bytes += 48 + actor.node.size();
  for (const Sibling& s : object.siblings) bytes += 96 + s.dot.actor.node.size() + s.value.size();
  return bytes;
}

Status CheckClockLimits(const VersionVector& clock) {
  for (const auto& [actor, counter] : clock.entries()) {
    RINGKV_RETURN_IF_ERROR(CheckActor(actor, counter, "clock"));
  }
  return Status::OK();
}

Status CheckObjectLimits(const Object& object) {
  RINGKV_RETURN_IF_ERROR(CheckClockLimits(object.context));
  for (const Sibling& s : object.siblings) {
    RINGKV_RETURN_IF_ERROR(CheckActor(s.dot.actor, s.dot.counter, "dot"));
    if (s.value.size() > kMaxValueBytes) {
      return Status::InvalidArgument("sibling value of " + std::to_string(s.value.size()) +
                                     " bytes exceeds the limit of " +
                                     std::to_string(kMaxValueBytes));
    }
  }
  if (size_t size = ObjectSize(object); size > kMaxMergedObjectBytes) {
    return Status::ObjectTooLarge("object of " + std::to_string(size) +
                                  " bytes exceeds the limit of " +
                                  std::to_string(kMaxMergedObjectBytes));
  }
  return Status::OK();
}

}  // namespace ringkv
