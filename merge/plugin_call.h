// PluginCall: one call into a merge plugin across the C ABI (ringkv_merge.h),
// with the host's side of the contract: inputs lent as read-only views, an
// arena with a byte budget for the result, and the result checked (it must
// lie in the arena or inside an input, and fit the budget) and copied out
// before the arena goes. A plugin's refusal or garbage becomes a Status;
// nothing it returns is trusted further than that.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "causality/object.h"
#include "common/status.h"
#include "merge/ringkv_merge.h"

namespace ringkv {

// What a call may allocate in all, and the largest result it may return:
// a merged value must fit where any value fits.
inline constexpr size_t kMergeArenaBytes = size_t{16} << 20;

// The merge of `siblings` (at least two, values, not tombstones): the
// result's bytes. InvalidArgument when the plugin declined or failed
// (message: the plugin's code); Corruption when its result lies outside
// what it was lent or is larger than kMaxValueBytes. The plugin's return
// code in *code when given.
Result<std::string> CallMerge(const rkv_merge_plugin& plugin,
                              const std::vector<const Sibling*>& siblings, int* code = nullptr);

// The plugin's sample value for `seed`.
Result<std::string> CallSample(const rkv_merge_plugin& plugin, uint64_t seed);

// "ok", "keep_siblings", "einval", "enomem", "einternal" or "code <n>".
std::string PluginCodeName(int code);

}  // namespace ringkv
