#include "causality/resolver.h"

#include <utility>

namespace ringkv {
namespace {

class SiblingsResolver final : public Resolver {
 public:
  std::string_view Name() const override { return "siblings"; }
  Object Merge(const Object& a, const Object& b) const override { return Sync(a, b); }
  Object Normalize(Object s) const override { return s; }
  Object AfterUpdate(const Object*, Object updated) const override { return updated; }
};

class LwwResolver final : public Resolver {
 public:
  std::string_view Name() const override { return "lww"; }
  Object Merge(const Object& a, const Object& b) const override { return MergeLww(a, b); }
  Object Normalize(Object s) const override { return ResolveLww(std::move(s)); }
  // The new write wins only if it is the latest-stamped (object.h MergeLww).
  Object AfterUpdate(const Object* local, Object updated) const override {
    return local != nullptr ? MergeLww(*local, updated) : ResolveLww(std::move(updated));
  }
};

const SiblingsResolver kSiblings;
const LwwResolver kLww;

}  // namespace

const Resolver* FindResolver(std::string_view name) {
  if (name == kSiblings.Name()) return &kSiblings;
  if (name == kLww.Name()) return &kLww;
  return nullptr;
}

const Resolver& DefaultResolver() { return kSiblings; }

std::vector<std::string_view> ResolverNames() { return {kSiblings.Name(), kLww.Name()}; }

}  // namespace ringkv
