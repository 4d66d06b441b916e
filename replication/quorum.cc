#include "replication/quorum.h"

namespace ringkv {

void QuorumTracker::Succeeded(bool primary) {
  if (primary) {
    --pending_primary_;
    ++ok_primary_;
  } else {
    --pending_other_;
  }
  ++ok_;
}

void QuorumTracker::Failed(bool primary) { primary ? --pending_primary_ : --pending_other_; }

bool QuorumTracker::Impossible() const {
  return ok_ + pending_primary_ + pending_other_ < required_ ||
         ok_primary_ + pending_primary_ < required_primary_;
}

std::string QuorumTracker::Shortfall() const {
  if (ok_ >= required_ && ok_primary_ < required_primary_) {
    return std::to_string(ok_primary_) + " of " + std::to_string(required_primary_) +
           " required primary replicas answered";
  }
  return std::to_string(ok_) + " of " + std::to_string(required_) +
         " required replicas answered";
}

}  // namespace ringkv
