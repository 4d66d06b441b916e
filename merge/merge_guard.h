// MergeGuard: containment of one merge plugin inside a node. Every call is
// counted and timed; a call that fails (the plugin declined, returned
// memory or sizes it may not, or its worker crashed or passed its deadline:
// merge/merge_function.h) or runs slow is counted by reason, and after
// `trip_after` such calls in a row the breaker opens: for `cool_down_us`
// the plugin is not called at all and siblings stay as they are, then one
// call is let through to try it again. Declining keeps every value, so the
// breaker trades merging for safety, never data.
//
// Belongs to one node's loop (no locks), as its metrics do.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "causality/object.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "merge/merge_function.h"

namespace ringkv {

struct MergeGuardOptions {
  // A call that takes longer than slow_us plus slow_us_per_mib for each MiB
  // of sibling values counts as slow: its result is used, but it counts
  // towards opening the breaker. The allowance grows with the input so that
  // merging large values in good time never rests a plugin.
  int64_t slow_us = 5'000;
  int64_t slow_us_per_mib = 20'000;
  uint32_t trip_after = 5;
  int64_t cool_down_us = 10'000'000;
};

class MergeGuard {
 public:
  // The guard of the plugin `name`; `function`, `clock` and `metrics` must
  // outlive it.
  MergeGuard(std::string name, MergeFunction* function, Clock* clock, MetricsRegistry* metrics,
             MergeGuardOptions options = {});

  // The plugin's merge of `values`, or an error when it declined, failed, or
  // the breaker is open (nothing called).
  Result<std::string> Merge(const std::vector<const Sibling*>& values);

  bool open() const { return open_until_us_ > 0; }

 private:
  void Failed();
  Counter* FailureCounter(const Status& st) const;

  std::string name_;
  MergeFunction* function_;
  Clock* clock_;
  MergeGuardOptions options_;
  uint32_t failures_in_a_row_ = 0;
  // While the breaker is open: when it lets a call through again.
  int64_t open_until_us_ = 0;
  Counter* calls_;
  Counter* declined_;
  Counter* invalid_output_;
  Counter* deadline_;
  Counter* crashed_;
  Counter* worker_down_;
  Counter* slow_;
  Counter* skipped_;
  Counter* trips_;
};

}  // namespace ringkv
