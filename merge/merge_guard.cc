#include "merge/merge_guard.h"

#include "merge/plugin_call.h"

namespace ringkv {
namespace {

constexpr const char* kFailuresHelp =
    "Merge plugin calls that failed, by plugin and reason: declined (the plugin returned an "
    "error; the siblings stay) or invalid_output (it returned memory it was not lent, or a "
    "value too large).";

}  // namespace

MergeGuard::MergeGuard(const rkv_merge_plugin* plugin, Clock* clock, MetricsRegistry* metrics,
                       MergeGuardOptions options)
    : plugin_(plugin), clock_(clock), options_(options) {
  const std::string name = plugin->name;
  calls_ = metrics->AddCounter("ringkv_merge_calls_total",
                               "Merge plugin calls made, by plugin.", {{"plugin", name}});
  declined_ = metrics->AddCounter("ringkv_merge_failures_total", kFailuresHelp,
                                  {{"plugin", name}, {"reason", "declined"}});
  invalid_output_ = metrics->AddCounter("ringkv_merge_failures_total", kFailuresHelp,
                                        {{"plugin", name}, {"reason", "invalid_output"}});
  slow_ = metrics->AddCounter("ringkv_merge_slow_total",
                              "Merge plugin calls slower than the slow threshold (5 ms), by "
                              "plugin; their results are used.",
                              {{"plugin", name}});
  skipped_ = metrics->AddCounter("ringkv_merge_skipped_total",
                                 "Merges not attempted because the plugin's breaker was open; "
                                 "the siblings stay.",
                                 {{"plugin", name}});
  trips_ = metrics->AddCounter("ringkv_merge_breaker_trips_total",
                               "Times a merge plugin's breaker opened, by plugin.",
                               {{"plugin", name}});
}

void MergeGuard::Failed() {
  if (++failures_in_a_row_ < options_.trip_after) return;
  if (open_until_us_ == 0) trips_->Increment();
  open_until_us_ = clock_->MonoMicros() + options_.cool_down_us;
}

Result<std::string> MergeGuard::Merge(const std::vector<const Sibling*>& values) {
  const int64_t start = clock_->MonoMicros();
  if (open_until_us_ > 0) {
    if (start < open_until_us_) {
      skipped_->Increment();
      return Status::Unavailable(std::string("merge plugin ") + plugin_->name +
                                 " is resting after repeated failures");
    }
    // Half open: this call decides. One more failure opens it again at once.
    failures_in_a_row_ = options_.trip_after - 1;
    open_until_us_ = 0;
  }
  calls_->Increment();
  Result<std::string> merged = CallMerge(*plugin_, values);
  const bool slow = clock_->MonoMicros() - start > options_.slow_us;
  if (slow) slow_->Increment();
  if (!merged.ok()) {
    (merged.status().IsCorruption() ? invalid_output_ : declined_)->Increment();
    Failed();
  } else if (slow) {
    Failed();
  } else {
    failures_in_a_row_ = 0;
  }
  return merged;
}

}  // namespace ringkv
