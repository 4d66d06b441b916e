#include "merge/merge_resolver.h"

#include <utility>

#include "merge/collapse.h"

namespace ringkv {

Object MergeResolver::Collapsed(Object s) const {
  if (guard_ == nullptr) return s;
  return Collapse(std::move(s), [this](const std::vector<const Sibling*>& values) {
    return guard_->Merge(values);
  });
}

Object MergeResolver::Merge(const Object& a, const Object& b) const {
  return Collapsed(Sync(a, b));
}

Object MergeResolver::Normalize(Object s) const { return Collapsed(std::move(s)); }

Object MergeResolver::AfterUpdate(const Object*, Object updated) const {
  return Collapsed(std::move(updated));
}

}  // namespace ringkv
