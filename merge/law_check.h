// The law check: before a merge plugin is used, its merge must be shown to
// be a join on generated samples, because replicas that merge in different
// orders converge only if it is one. With M the binary merge (the value the
// plugin returns, stamped as merge/collapse.h stamps it) and a, b, c samples
// from the plugin's own generator, stamped with colliding timestamps and
// dots so that ties actually occur:
//   commutative   M(a, b) == M(b, a)
//   associative   M(M(a, b), c) == M(a, M(b, c))
//   idempotent    M(a, a) == a
//   n-ary         the merge of (a, b, c), in all six orders, == M(M(a, b), c)
//   canonical     M(m, m) == m for m = M(a, b): a result is its own normal
//                 form, so equal states have equal bytes
// A plugin that declines its own samples fails too. Equality is byte
// equality of the value and of the stamp.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "merge/ringkv_merge.h"

namespace ringkv {

struct LawCheckOptions {
  uint32_t samples = 5000;
  uint64_t seed = 1;
  // For the isolated check: the whole check must end by then.
  int64_t deadline_ms = 10'000;
};

// In this process. OK, or InvalidArgument naming the law and a
// counterexample ("breaks the commutative law: merge(a, b) != merge(b, a)
// with a = ..., b = ...").
Status CheckLaws(const rkv_merge_plugin& plugin, const LawCheckOptions& options);

// The same in a forked child, so that a plugin that crashes or never
// returns is refused and this process goes on: InvalidArgument for a broken
// law, a crash (naming the signal) or the deadline passed (the child is
// killed).
Status CheckLawsIsolated(const rkv_merge_plugin& plugin, const LawCheckOptions& options);

}  // namespace ringkv
