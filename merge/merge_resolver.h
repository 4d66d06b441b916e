// MergeResolver: the resolver of a bucket with `resolver = "merge:<name>"`.
// What replicas store keeps concurrent writes apart under their own dots
// (Merge and Normalize are the causal merge, Sync): a merged value under one
// of its inputs' dots would be discarded, with every other input in it, by a
// later write whose context saw that one dot only. The values are merged
// (Collapse, merge/collapse.h, through the plugin's guard) where that is
// safe: the coordinator's write, under the dot it mints, and what a read
// answers, which is never stored. Without a usable plugin (none loaded under
// that name, or its pinned version or hash differs) it keeps siblings, as
// the default resolver does.
#pragma once

#include <string>
#include <utility>

#include "causality/resolver.h"
#include "merge/merge_guard.h"

namespace ringkv {

class MergeResolver final : public Resolver {
 public:
  // `guard` (may be null: keep siblings) must outlive this.
  MergeResolver(std::string name, MergeGuard* guard) : name_(std::move(name)), guard_(guard) {}

  std::string_view Name() const override { return name_; }
  Object Merge(const Object& a, const Object& b) const override;
  Object Normalize(Object s) const override;
  Object AfterUpdate(const Object* local, Object updated) const override;
  Object Answer(Object merged) const override;

 private:
  Object Collapsed(Object s, const Dot* into) const;

  std::string name_;
  MergeGuard* guard_;
};

}  // namespace ringkv
