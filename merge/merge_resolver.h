// MergeResolver: the resolver of a bucket with `resolver = "merge:<name>"`.
// Every merge is the causal merge first (Sync drops what a context
// superseded), then Collapse (merge/collapse.h) over what is left, through
// the plugin's guard; the coordinator's write, a replica's merge (so read
// repair, hinted handoff and anti-entropy, which all arrive through
// Replica::Merge), and a read's merge of the answers all go through here.
// Without a usable plugin (none loaded under that name, or its pinned
// version or hash differs) it keeps siblings, as the default resolver does.
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

 private:
  Object Collapsed(Object s) const;

  std::string name_;
  MergeGuard* guard_;
};

}  // namespace ringkv
