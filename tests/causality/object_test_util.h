// Test helpers for the object model: build objects in the compact notation of
// causality.md §3 and print them in failure messages. Pure functions, safe
// from any thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "causality/object.h"

namespace ringkv {

// Stands for ⊥ (a tombstone) in compact-notation value lists.
inline const std::string kTomb = "<tombstone>";

// One compact entry (actor, n, values newest first).
struct CompactEntry {
  Actor actor;
  uint64_t n;
  std::vector<std::string> values;
};

// The explicit form of a compact state (causality.md §1 mapping). Timestamps
// are 0, matching Put below.
inline Object Compact(const std::vector<CompactEntry>& entries) {
  std::vector<VersionVector::Entry> ctx;
  std::vector<Sibling> siblings;
  for (const CompactEntry& e : entries) {
    ctx.emplace_back(e.actor, e.n);
    for (size_t i = 0; i < e.values.size(); ++i) {
      Sibling s;
      s.dot = Dot{e.actor, e.n - i};
      s.tombstone = e.values[i] == kTomb;
      if (!s.tombstone) s.value = e.values[i];
      siblings.push_back(s);
    }
  }
  std::sort(siblings.begin(), siblings.end(), SiblingLess);
  return Object{VersionVector(std::move(ctx)), std::move(siblings)};
}

inline VersionVector Vv(std::vector<VersionVector::Entry> entries) {
  return VersionVector(std::move(entries));
}

// put(S, C, v, r) of causality.md §3, with timestamp 0.
inline Object Put(Object s, const VersionVector& c, const std::string& v, const Actor& r) {
  bool tomb = v == kTomb;
  return Update(std::move(s), c, r, 0, tomb, tomb ? "" : v);
}

inline std::ostream& operator<<(std::ostream& os, const Actor& a) {
  return os << a.node << "#" << a.incarnation;
}

inline std::ostream& operator<<(std::ostream& os, const Object& o) {
  os << "{ctx {";
  for (const auto& [actor, n] : o.context.entries()) os << actor << ":" << n << " ";
  os << "} siblings [";
  for (const Sibling& s : o.siblings) {
    os << "(" << s.dot.actor << "," << s.dot.counter << ")="
       << (s.tombstone ? std::string("⊥") : "'" + s.value + "'") << "@" << s.timestamp_us << " ";
  }
  return os << "]}";
}

}  // namespace ringkv
