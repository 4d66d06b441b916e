// Explicit-form dotted version vectors; see docs/causality.md.
#include "causality/object.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace ringkv {
namespace {

bool ActorLess(const VersionVector::Entry& e, const Actor& a) { return e.first < a; }

// Siblings that are one client write coordinated twice: same write, same
// content, whatever their dots.
bool SameWrite(const Sibling& a, const Sibling& b) {
  return !a.write_id.empty() && a.write_id == b.write_id && a.timestamp_us == b.timestamp_us &&
         a.tombstone == b.tombstone && a.value == b.value;
}

// Keeps, of each group of siblings that are one write (SameWrite), the last
// in canonical order: the greatest dot, which is also the one ResolveLww
// keeps of equal-stamped copies (were they to disagree, two replicas could
// each keep one copy and cover the other, and their merge keep none). Comparing content as well as the id means a colliding
// id can only ever fold two byte-identical values. REQUIRES: canonical order.
void DropRepeatedWrites(std::vector<Sibling>* siblings) {
  size_t with_id = std::count_if(siblings->begin(), siblings->end(),
                                 [](const Sibling& s) { return !s.write_id.empty(); });
  if (with_id < 2) return;
  std::vector<size_t> order(siblings->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  // Grouped by id; within a group, the greatest dot (index) first.
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    const WriteId& a = (*siblings)[x].write_id;
    const WriteId& b = (*siblings)[y].write_id;
    return a < b || (a == b && x > y);
  });
  std::vector<bool> drop(siblings->size(), false);
  for (size_t i = 0; i < order.size(); ++i) {
    const Sibling& s = (*siblings)[order[i]];
    if (s.write_id.empty() || drop[order[i]]) continue;
    for (size_t j = i + 1; j < order.size() && (*siblings)[order[j]].write_id == s.write_id; ++j) {
      if (SameWrite(s, (*siblings)[order[j]])) drop[order[j]] = true;
    }
  }
  size_t kept = 0;
  for (size_t i = 0; i < siblings->size(); ++i) {
    if (drop[i]) continue;
    if (kept != i) (*siblings)[kept] = std::move((*siblings)[i]);
    ++kept;
  }
  siblings->resize(kept);
}

// Sorts into canonical order and drops exact duplicates (the same sibling
// arriving from both sides of a Sync) and repeated writes.
void Canonicalize(std::vector<Sibling>* siblings) {
  std::sort(siblings->begin(), siblings->end(), SiblingLess);
  siblings->erase(std::unique(siblings->begin(), siblings->end()), siblings->end());
  DropRepeatedWrites(siblings);
}

bool HasDot(const Object& s, const Dot& dot) {
  // Siblings are sorted by dot first, so a binary search finds any with `dot`.
  auto it = std::lower_bound(s.siblings.begin(), s.siblings.end(), dot,
                             [](const Sibling& x, const Dot& d) { return x.dot < d; });
  return it != s.siblings.end() && it->dot == dot;
}

// Riak's keep/drop rule (riak_object fold_contents): a sibling of `from`
// survives iff `other` holds the same dot or has not seen it.
void KeepFrom(const Object& from, const Object& other, std::vector<Sibling>* out) {
  for (const Sibling& s : from.siblings) {
    if (HasDot(other, s.dot) || !other.context.Covers(s.dot)) out->push_back(s);
  }
}

auto LwwKey(const Sibling& s) {
  return std::tie(s.timestamp_us, s.dot.actor.node, s.dot.actor.incarnation, s.dot.counter,
                  s.value, s.tombstone);
}

}  // namespace

VersionVector::VersionVector(std::vector<Entry> entries) {
  // Decoders hand over entries they have checked strictly sorted and
  // non-zero (every read of a stored object does): taken as they are, one
  // pass instead of a sort and a rebuilt vector.
  const bool normal = std::adjacent_find(entries.begin(), entries.end(),
                                         [](const Entry& a, const Entry& b) {
                                           return !(a.first < b.first);
                                         }) == entries.end() &&
                      std::none_of(entries.begin(), entries.end(),
                                   [](const Entry& e) { return e.second == 0; });
  if (normal) {
    entries_ = std::move(entries);
    return;
  }
  std::sort(entries.begin(), entries.end());
  for (auto& [actor, counter] : entries) {
    if (counter == 0) continue;
    if (!entries_.empty() && entries_.back().first == actor) {
      entries_.back().second = std::max(entries_.back().second, counter);
    } else {
      entries_.emplace_back(std::move(actor), counter);
    }
  }
}

uint64_t VersionVector::Get(const Actor& actor) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), actor, ActorLess);
  return it != entries_.end() && it->first == actor ? it->second : 0;
}

void VersionVector::Set(const Actor& actor, uint64_t counter) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), actor, ActorLess);
  bool present = it != entries_.end() && it->first == actor;
  if (counter == 0) {
    if (present) entries_.erase(it);
  } else if (present) {
    it->second = counter;
  } else {
    entries_.emplace(it, actor, counter);
  }
}

bool VersionVector::Covers(const Dot& dot) const { return Get(dot.actor) >= dot.counter; }

bool VersionVector::Descends(const VersionVector& other) const {
  for (const auto& [actor, counter] : other.entries_) {
    if (Get(actor) < counter) return false;
  }
  return true;
}

void VersionVector::MergeFrom(const VersionVector& other) {
  std::vector<Entry> merged;
  merged.reserve(entries_.size() + other.entries_.size());
  auto a = entries_.begin();
  auto b = other.entries_.begin();
  while (a != entries_.end() || b != other.entries_.end()) {
    if (b == other.entries_.end() || (a != entries_.end() && a->first < b->first)) {
      merged.push_back(*a++);
    } else if (a == entries_.end() || b->first < a->first) {
      merged.push_back(*b++);
    } else {
      merged.emplace_back(a->first, std::max(a->second, b->second));
      ++a;
      ++b;
    }
  }
  entries_ = std::move(merged);
}

bool SiblingLess(const Sibling& a, const Sibling& b) {
  return std::tie(a.dot, a.tombstone, a.value, a.timestamp_us, a.write_id) <
         std::tie(b.dot, b.tombstone, b.value, b.timestamp_us, b.write_id);
}

bool Object::IsDeleted() const {
  return std::all_of(siblings.begin(), siblings.end(),
                     [](const Sibling& s) { return s.tombstone; });
}

std::vector<const Sibling*> Object::Values() const {
  std::vector<const Sibling*> out;
  for (const Sibling& s : siblings) {
    if (!s.tombstone) out.push_back(&s);
  }
  return out;
}

Object Discard(Object s, const VersionVector& c) {
  std::erase_if(s.siblings, [&c](const Sibling& x) { return c.Covers(x.dot); });
  return s;
}

Object Sync(const Object& a, const Object& b) {
  // Replicas usually agree (read repair compares every answer, replica
  // writes usually bring what the replica has): sync(S, S) = S.
  if (a == b) return a;
  Object out;
  out.context = a.context;
  out.context.MergeFrom(b.context);
  out.siblings.reserve(a.siblings.size() + b.siblings.size());
  KeepFrom(a, b, &out.siblings);
  KeepFrom(b, a, &out.siblings);
  // A dot on both sides is kept once when the siblings are equal; a dot
  // collision (vector 15) keeps both, ordered by SiblingLess.
  Canonicalize(&out.siblings);
  return out;
}

bool HoldsWrite(const Object& s, const WriteId& id) {
  return !id.empty() && std::any_of(s.siblings.begin(), s.siblings.end(),
                                    [&id](const Sibling& x) { return x.write_id == id; });
}

Object Update(Object local, const VersionVector& client_context, const Actor& coordinator,
              int64_t timestamp_us, bool tombstone, std::string value, WriteId write_id) {
  Object s = Discard(std::move(local), client_context);
  s.context.MergeFrom(client_context);
  // Step 2 makes n > C[r]: a stale coordinator never reissues a dot the
  // client has already seen.
  uint64_t n = s.context.Get(coordinator) + 1;
  s.context.Set(coordinator, n);
  Sibling sib;
  sib.dot = Dot{coordinator, n};
  sib.timestamp_us = timestamp_us;
  sib.write_id = write_id;
  sib.tombstone = tombstone;
  if (!tombstone) sib.value = std::move(value);
  auto pos = std::upper_bound(s.siblings.begin(), s.siblings.end(), sib, SiblingLess);
  s.siblings.insert(pos, std::move(sib));
  return s;
}

Object ResolveLww(Object s) {
  if (s.siblings.size() <= 1) return s;
  auto best = std::max_element(s.siblings.begin(), s.siblings.end(),
                               [](const Sibling& x, const Sibling& y) {
                                 return LwwKey(x) < LwwKey(y);
                               });
  Sibling winner = std::move(*best);
  s.siblings.clear();
  s.siblings.push_back(std::move(winner));
  return s;
}

Object MergeLww(const Object& a, const Object& b) {
  Object out;
  out.context = a.context;
  out.context.MergeFrom(b.context);
  const Sibling* best = nullptr;
  for (const Object* o : {&a, &b}) {
    for (const Sibling& s : o->siblings) {
      if (best == nullptr || LwwKey(*best) < LwwKey(s)) best = &s;
    }
  }
  if (best != nullptr) out.siblings.push_back(*best);
  return out;
}

std::string CheckInvariants(const Object& s) {
  const auto& entries = s.context.entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].second == 0) return "context entry with zero counter";
    if (i > 0 && !(entries[i - 1].first < entries[i].first)) {
      return "context entries not strictly sorted by actor";
    }
  }
  for (size_t i = 0; i < s.siblings.size(); ++i) {
    const Sibling& sib = s.siblings[i];
    if (sib.dot.counter == 0) return "sibling with zero dot counter";
    if (!s.context.Covers(sib.dot)) return "sibling dot not covered by the context";
    if (sib.tombstone && !sib.value.empty()) return "tombstone with a value";
    if (i > 0 && !SiblingLess(s.siblings[i - 1], sib)) {
      return "siblings not in canonical order or duplicated";
    }
  }
  return "";
}

}  // namespace ringkv
