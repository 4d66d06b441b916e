#include "merge/merge_guard.h"

namespace ringkv {
namespace {

constexpr const char* kFailuresHelp =
    "Merge plugin calls that failed, by plugin and reason: declined (the plugin returned an "
    "error), invalid_output (it returned memory it was not lent, or a value too large), "
    "deadline (its worker passed the call's deadline and was killed), worker_crashed (its "
    "worker died or spoke garbage) or worker_down (its worker was restarting: not called). "
    "The siblings stay.";

}  // namespace

MergeGuard::MergeGuard(std::string plugin_name, MergeFunction* function, Clock* clock,
                       MetricsRegistry* metrics, MergeGuardOptions options)
    : name_(std::move(plugin_name)), function_(function), clock_(clock), options_(options) {
  calls_ = metrics->AddCounter("ringkv_merge_calls_total",
                               "Merge plugin calls made, by plugin.", {{"plugin", name_}});
  declined_ = metrics->AddCounter("ringkv_merge_failures_total", kFailuresHelp,
                                  {{"plugin", name_}, {"reason", "declined"}});
  invalid_output_ = metrics->AddCounter("ringkv_merge_failures_total", kFailuresHelp,
                                        {{"plugin", name_}, {"reason", "invalid_output"}});
  deadline_ = metrics->AddCounter("ringkv_merge_failures_total", kFailuresHelp,
                                  {{"plugin", name_}, {"reason", "deadline"}});
  crashed_ = metrics->AddCounter("ringkv_merge_failures_total", kFailuresHelp,
                                 {{"plugin", name_}, {"reason", "worker_crashed"}});
  worker_down_ = metrics->AddCounter("ringkv_merge_failures_total", kFailuresHelp,
                                     {{"plugin", name_}, {"reason", "worker_down"}});
  slow_ = metrics->AddCounter("ringkv_merge_slow_total",
                              "Merge plugin calls slower than the slow threshold (in-process: 5 "
                              "ms plus 20 ms per MiB of values; worker: half its deadline), by "
                              "plugin; their results are used.",
                              {{"plugin", name_}});
  skipped_ = metrics->AddCounter("ringkv_merge_skipped_total",
                                 "Merges not attempted because the plugin's breaker was open; "
                                 "the siblings stay.",
                                 {{"plugin", name_}});
  trips_ = metrics->AddCounter("ringkv_merge_breaker_trips_total",
                               "Times a merge plugin's breaker opened, by plugin.",
                               {{"plugin", name_}});
}

Counter* MergeGuard::FailureCounter(const Status& st) const {
  switch (st.code()) {
    case Status::Code::kCorruption: return invalid_output_;
    case Status::Code::kTimeout: return deadline_;
    case Status::Code::kInternal: return crashed_;
    default: return declined_;
  }
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
      return Status::Unavailable("merge plugin " + name_ +
                                 " is resting after repeated failures");
    }
    // Half open: this call decides. One more failure opens it again at once.
    failures_in_a_row_ = options_.trip_after - 1;
    open_until_us_ = 0;
  }
  size_t bytes = 0;
  for (const Sibling* v : values) bytes += v->value.size();
  Result<std::string> merged = function_->Merge(values);
  if (merged.status().IsUnavailable()) {
    worker_down_->Increment();
    return merged;
  }
  calls_->Increment();
  const bool slow =
      clock_->MonoMicros() - start >
      options_.slow_us + static_cast<int64_t>(bytes) * options_.slow_us_per_mib / (1 << 20);
  if (slow) slow_->Increment();
  if (!merged.ok()) {
    FailureCounter(merged.status())->Increment();
    Failed();
  } else if (slow) {
    Failed();
  } else {
    failures_in_a_row_ = 0;
  }
  return merged;
}

}  // namespace ringkv
