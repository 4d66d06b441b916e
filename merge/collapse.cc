#include "merge/collapse.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace ringkv {
namespace {

auto StampKey(const Sibling& s) {
  return std::tie(s.timestamp_us, s.dot.actor.node, s.dot.actor.incarnation, s.dot.counter);
}

const Sibling* GreatestStamp(const std::vector<const Sibling*>& siblings) {
  // Equal stamps (one dot, two contents) are told apart by content, so the
  // choice never depends on order.
  return *std::max_element(siblings.begin(), siblings.end(),
                           [](const Sibling* a, const Sibling* b) {
                             return StampLess(*a, *b) ||
                                    (!StampLess(*b, *a) && SiblingLess(*a, *b));
                           });
}

}  // namespace

bool StampLess(const Sibling& a, const Sibling& b) { return StampKey(a) < StampKey(b); }

Sibling MergedSibling(const std::vector<const Sibling*>& inputs, std::string value) {
  const Sibling* top = GreatestStamp(inputs);
  Sibling out;
  out.dot = top->dot;
  out.timestamp_us = top->timestamp_us;
  out.value = std::move(value);
  return out;
}

Object Collapse(Object s, const ValueMerge& merge, Status* declined, const Dot* into) {
  std::vector<const Sibling*> values, tombstones;
  for (const Sibling& x : s.siblings) (x.tombstone ? tombstones : values).push_back(&x);
  if (values.size() < 2 && tombstones.size() < 2) return s;
  std::vector<Sibling> kept;
  if (values.size() >= 2) {
    Result<std::string> merged = merge(values);
    auto write = std::find_if(values.begin(), values.end(), [into](const Sibling* v) {
      return into != nullptr && v->dot == *into;
    });
    if (merged.ok() && write != values.end()) {
      Sibling out = **write;
      out.value = std::move(*merged);
      kept.push_back(std::move(out));
    } else if (merged.ok()) {
      kept.push_back(MergedSibling(values, std::move(*merged)));
    } else {
      if (declined != nullptr) *declined = merged.status();
      for (const Sibling* v : values) kept.push_back(*v);
    }
  } else if (!values.empty()) {
    kept.push_back(*values.front());
  }
  if (!tombstones.empty()) kept.push_back(*GreatestStamp(tombstones));
  std::sort(kept.begin(), kept.end(), SiblingLess);
  s.siblings = std::move(kept);
  return s;
}

}  // namespace ringkv
