// LogLimiter: at most one log line per interval for a kind of event that a
// hostile sender can repeat at will (refused peer messages, failed
// handshakes), so it cannot flood the log; the lines it holds back are
// counted and reported with the next one. Metrics still count every event.
// Not thread-safe: used on the loop's thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace ringkv {

class LogLimiter {
 public:
  explicit LogLimiter(std::chrono::milliseconds interval = std::chrono::seconds(1))
      : interval_(interval) {}

  // Whether to log this event now; if so, `*suppressed` is the number of
  // events held back since the last line.
  bool Allow(uint64_t* suppressed) {
    const auto now = std::chrono::steady_clock::now();
    if (logged_once_ && now - last_ < interval_) {
      ++held_;
      return false;
    }
    logged_once_ = true;
    last_ = now;
    *suppressed = held_;
    held_ = 0;
    return true;
  }

 private:
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_{};
  bool logged_once_ = false;
  uint64_t held_ = 0;
};

}  // namespace ringkv
