// TokenBucket: a rate limit that lets a burst through and then `rate` units
// per second. Taking more than is there is allowed (the debt delays what
// comes next), so one large object is never refused. Time comes from the
// caller, so the simulator's clock drives it like the real one.
#pragma once

#include <algorithm>
#include <cstdint>

namespace ringkv::aae {

class TokenBucket {
 public:
  TokenBucket(double rate_per_sec, double burst) : rate_(rate_per_sec), burst_(burst), tokens_(burst) {}

  // Microseconds to wait, from `now_us`, until a unit may be taken.
  int64_t WaitUs(int64_t now_us) {
    Refill(now_us);
    if (tokens_ >= 1 || rate_ <= 0) return 0;
    return static_cast<int64_t>((1 - tokens_) / rate_ * 1e6) + 1;
  }
  void Take(int64_t now_us, double units) {
    Refill(now_us);
    tokens_ -= units;
  }

 private:
  void Refill(int64_t now_us) {
    if (last_us_ != 0 && now_us > last_us_) {
      tokens_ = std::min(burst_, tokens_ + rate_ * static_cast<double>(now_us - last_us_) / 1e6);
    }
    last_us_ = std::max(last_us_, now_us);
  }

  double rate_;
  double burst_;
  double tokens_;
  int64_t last_us_ = 0;
};

}  // namespace ringkv::aae
