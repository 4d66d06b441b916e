// QuorumTracker: counts replica answers toward an R or W quorum.
//
// Two thresholds: `required` answers from any replica (fallbacks included,
// once sloppy quorum exists) and `required_primary` from primaries of the
// preference list (PR/PW). The tracker knows how many answers are still
// outstanding, so a coordinator can fail as soon as a quorum becomes
// impossible instead of waiting for its deadline. A value type.
#pragma once

#include <cstdint>
#include <string>

namespace ringkv {

class QuorumTracker {
 public:
  QuorumTracker(uint32_t required, uint32_t required_primary)
      : required_(required), required_primary_(required_primary) {}

  // A request went out (or a local operation started) that will answer once.
  void Expect(bool primary) { primary ? ++pending_primary_ : ++pending_other_; }
  void Succeeded(bool primary);
  void Failed(bool primary);
  void Answered(bool ok, bool primary) { ok ? Succeeded(primary) : Failed(primary); }

  bool Met() const { return ok_ >= required_ && ok_primary_ >= required_primary_; }
  // True when even every outstanding answer succeeding could not meet it.
  bool Impossible() const;
  bool AllAnswered() const { return pending_primary_ + pending_other_ == 0; }
  uint32_t successes() const { return ok_; }

  // "1 of 2 required replicas answered" (or, when PR/PW is what is missing,
  // "... primary replicas ...").
  std::string Shortfall() const;

 private:
  uint32_t required_, required_primary_;
  uint32_t ok_ = 0, ok_primary_ = 0;
  uint32_t pending_primary_ = 0, pending_other_ = 0;
};

}  // namespace ringkv
