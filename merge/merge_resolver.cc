#include "merge/merge_resolver.h"

#include <algorithm>
#include <utility>

#include "merge/collapse.h"

namespace ringkv {

Object MergeResolver::Collapsed(Object s, const Dot* into) const {
  if (guard_ == nullptr) return s;
  return Collapse(
      std::move(s),
      [this](const std::vector<const Sibling*>& values) { return guard_->Merge(values); },
      nullptr, into);
}

Object MergeResolver::Merge(const Object& a, const Object& b) const { return Sync(a, b); }

Object MergeResolver::Normalize(Object s) const { return s; }

Object MergeResolver::AfterUpdate(const Object* local, Object updated) const {
  // The write's dot is the one sibling the stored object did not hold: Update
  // mints it above everything the stored context covers.
  auto written = std::find_if(updated.siblings.begin(), updated.siblings.end(),
                              [local](const Sibling& s) {
                                return local == nullptr ||
                                       std::none_of(local->siblings.begin(), local->siblings.end(),
                                                    [&s](const Sibling& l) { return l.dot == s.dot; });
                              });
  // A delete leaves the concurrent values apart: no dot was minted for
  // their merge.
  if (written == updated.siblings.end() || written->tombstone) return updated;
  const Dot into = written->dot;
  return Collapsed(std::move(updated), &into);
}

Object MergeResolver::Answer(Object merged) const { return Collapsed(std::move(merged), nullptr); }

}  // namespace ringkv
