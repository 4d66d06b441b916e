// MergeFunction: where a plugin's merge runs. In the node's process (the
// default: a direct call across the C ABI), or in a worker process of its
// own (merge/merge_worker.h) for a plugin the operator does not trust. The
// breaker (merge/merge_guard.h) sees only this, and counts each kind of
// failure by the Status code it gets:
//   InvalidArgument  the plugin declined
//   Corruption       its result lay outside what it was lent, or too large
//   Timeout          the worker passed the call's deadline (it was killed)
//   Internal         the worker crashed or spoke garbage (it was killed)
//   Unavailable      the worker is down, restarting: nothing was called
// Every failure keeps the siblings.
#pragma once

#include <string>
#include <vector>

#include "causality/object.h"
#include "common/status.h"
#include "merge/plugin_call.h"
#include "merge/ringkv_merge.h"

namespace ringkv {

class MergeFunction {
 public:
  virtual ~MergeFunction() = default;
  // The merge of `values` (two or more, not tombstones), or a failure above.
  virtual Result<std::string> Merge(const std::vector<const Sibling*>& values) = 0;
};

// A plugin loaded into this process.
class InProcessMerge final : public MergeFunction {
 public:
  // `plugin` must outlive this.
  explicit InProcessMerge(const rkv_merge_plugin* plugin) : plugin_(plugin) {}
  Result<std::string> Merge(const std::vector<const Sibling*>& values) override {
    return CallMerge(*plugin_, values);
  }

 private:
  const rkv_merge_plugin* plugin_;
};

}  // namespace ringkv
