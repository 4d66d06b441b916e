// Property tests for the object model over random histories: three replicas,
// each coordinating as its own actor, doing updates with contexts read from
// random subsets of replicas (sometimes stale), one-way syncs, and the
// coordinator's push to a random subset of the others.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <vector>

#include "causality/object.h"
#include "causality/object_codec.h"
#include "tests/causality/object_test_util.h"

namespace ringkv {
namespace {

constexpr int kReplicas = 3;

struct History {
  std::array<Actor, kReplicas> actors = {Actor{"A", 1}, Actor{"B", 7}, Actor{"C", 1}};
  std::array<Object, kReplicas> replicas;
  std::vector<VersionVector> seen;  // every context a client read so far
  int next_value = 0;
  // Every write so far, so that one can be coordinated again elsewhere (a
  // forward retried on the next primary).
  struct Write {
    VersionVector context;
    int64_t ts;
    bool tomb;
    std::string value;
    WriteId id;
  };
  std::vector<Write> writes;
  int repeats = 0;

  // A client read from the replicas in `mask`: the join of their contexts.
  VersionVector ReadContext(int mask) const {
    VersionVector c;
    for (int i = 0; i < kReplicas; ++i) {
      if (mask & (1 << i)) c.MergeFrom(replicas[i].context);
    }
    return c;
  }

  std::string NextValue() { return "v" + std::to_string(next_value++); }
};

// A context as a client would send it: blind, read from a random subset of
// replicas now, or kept from an earlier read.
VersionVector GenContext(History& h) {
  if (!h.seen.empty() && *rc::gen::inRange(0, 4) == 0) {
    return h.seen[*rc::gen::inRange<size_t>(0, h.seen.size())];
  }
  VersionVector c = h.ReadContext(*rc::gen::inRange(0, 1 << kReplicas));
  h.seen.push_back(c);
  return c;
}

History GenHistory() {
  History h;
  int steps = *rc::gen::inRange(0, 40);
  for (int step = 0; step < steps; ++step) {
    int r = *rc::gen::inRange(0, kReplicas);
    int kind = *rc::gen::inRange(0, 5);
    if (kind == 0 && !h.writes.empty()) {
      // The same write coordinated again, as Replica::Coordinate does: not
      // where the write is already held.
      History::Write w = h.writes[*rc::gen::inRange<size_t>(0, h.writes.size())];
      if (!HoldsWrite(h.replicas[r], w.id)) {
        h.replicas[r] = Update(h.replicas[r], w.context, h.actors[r], w.ts, w.tomb, w.value, w.id);
        ++h.repeats;
      }
    } else if (kind <= 2) {
      VersionVector c = GenContext(h);
      bool tomb = *rc::gen::inRange(0, 6) == 0;
      int64_t ts = *rc::gen::inRange(0, 50);
      std::string value = tomb ? "" : h.NextValue();
      WriteId id{1, h.writes.size() + 1};
      h.writes.push_back({c, ts, tomb, value, id});
      h.replicas[r] = Update(h.replicas[r], c, h.actors[r], ts, tomb, value, id);
      int push = *rc::gen::inRange(0, 1 << kReplicas);
      for (int j = 0; j < kReplicas; ++j) {
        if (j != r && (push & (1 << j))) h.replicas[j] = Sync(h.replicas[j], h.replicas[r]);
      }
    } else {
      int from = *rc::gen::inRange(0, kReplicas);
      h.replicas[r] = Sync(h.replicas[r], h.replicas[from]);
    }
  }
  return h;
}

bool Contains(const Object& o, const Sibling& s) {
  for (const Sibling& x : o.siblings) {
    if (x == s) return true;
  }
  return false;
}

// The explicit form maps back to the compact one (causality.md §1): each
// actor's surviving dots are a contiguous run ending at ctx[actor].
void AssertCompactible(const Object& o) {
  std::map<Actor, std::vector<uint64_t>> dots;
  for (const Sibling& s : o.siblings) dots[s.dot.actor].push_back(s.dot.counter);
  for (const auto& [actor, counters] : dots) {
    uint64_t top = o.context.Get(actor);
    for (size_t i = 0; i < counters.size(); ++i) {
      RC_ASSERT(counters[counters.size() - 1 - i] == top - i);
    }
  }
}

RC_GTEST_PROP(ObjectProperty, SyncIsCommutativeAssociativeIdempotent, ()) {
  History h = GenHistory();
  const Object& a = h.replicas[0];
  const Object& b = h.replicas[1];
  const Object& c = h.replicas[2];
  for (const Object& o : h.replicas) {
    RC_ASSERT(CheckInvariants(o) == "");
    // Folding a repeated write drops a dot from the middle of an actor's
    // run: the explicit form needs no runs, the compact form would.
    if (h.repeats == 0) AssertCompactible(o);
    RC_ASSERT(Sync(o, o) == o);
  }
  RC_ASSERT(Sync(a, b) == Sync(b, a));
  RC_ASSERT(Sync(b, c) == Sync(c, b));
  RC_ASSERT(Sync(a, Sync(a, b)) == Sync(a, b));
  if (h.repeats == 0) {
    RC_ASSERT(Sync(Sync(a, b), c) == Sync(a, Sync(b, c)));
    RC_ASSERT(Sync(Sync(c, a), b) == Sync(c, Sync(a, b)));
  } else {
    // A write coordinated twice: whether a copy a client already superseded
    // elsewhere comes back can depend on the order replicas met in
    // (docs/causality.md section 5), but one more exchange settles it, to
    // the same state whatever the order.
    const Object x = Sync(Sync(a, b), c);
    const Object y = Sync(a, Sync(b, c));
    const Object z = Sync(Sync(c, a), b);
    const Object settled = Sync(x, Sync(y, z));
    RC_ASSERT(Sync(Sync(x, y), z) == settled);
    RC_ASSERT(Sync(z, Sync(y, x)) == settled);
    for (const Object& o : {x, y, z}) RC_ASSERT(Sync(o, settled) == settled);
  }
  Object all = Sync(Sync(a, b), c);
  RC_ASSERT(CheckInvariants(all) == "");
  if (h.repeats == 0) AssertCompactible(all);
  // No write shows twice once the replicas met.
  std::vector<WriteId> ids;
  for (const Sibling& s : all.siblings) ids.push_back(s.write_id);
  std::sort(ids.begin(), ids.end());
  RC_ASSERT(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
}

// An arbitrary valid object over a tiny dot space, so dot collisions
// (causality.md vector 15, a violated precondition) and gaps occur often.
Object GenArbitraryObject() {
  const std::array<Actor, 2> actors = {Actor{"A", 1}, Actor{"B", 1}};
  Object o;
  for (const Actor& a : actors) o.context.Set(a, *rc::gen::inRange<uint64_t>(0, 4));
  int count = *rc::gen::inRange(0, 5);
  for (int i = 0; i < count; ++i) {
    const Actor& a = actors[*rc::gen::inRange(0, 2)];
    uint64_t top = o.context.Get(a);
    if (top == 0) continue;
    Sibling s;
    s.dot = Dot{a, *rc::gen::inRange<uint64_t>(1, top + 1)};
    s.tombstone = *rc::gen::inRange(0, 4) == 0;
    if (!s.tombstone) s.value = *rc::gen::element<std::string>("x", "y");
    s.timestamp_us = *rc::gen::inRange(0, 2);
    o.siblings.push_back(s);
  }
  std::sort(o.siblings.begin(), o.siblings.end(), SiblingLess);
  o.siblings.erase(std::unique(o.siblings.begin(), o.siblings.end()), o.siblings.end());
  return o;
}

RC_GTEST_PROP(ObjectProperty, SyncLawsHoldEvenWithDotCollisions, ()) {
  Object a = GenArbitraryObject();
  Object b = GenArbitraryObject();
  Object c = GenArbitraryObject();
  RC_ASSERT(CheckInvariants(a) == "");
  RC_ASSERT(Sync(a, a) == a);
  RC_ASSERT(Sync(a, b) == Sync(b, a));
  RC_ASSERT(Sync(Sync(a, b), c) == Sync(a, Sync(b, c)));
  RC_ASSERT(CheckInvariants(Sync(a, b)) == "");
  RC_ASSERT(EncodeObject(Sync(a, b)) == EncodeObject(Sync(b, a)));
}

RC_GTEST_PROP(ObjectProperty, WriteWithReadContextSupersedesExactlyWhatItSaw, ()) {
  History h = GenHistory();
  int r = *rc::gen::inRange(0, kReplicas);
  VersionVector c = h.ReadContext(*rc::gen::inRange(0, 1 << kReplicas));
  const Object& before = h.replicas[r];
  Object after = Update(before, c, h.actors[r], 1, false, "new");

  VersionVector want_ctx = before.context;
  want_ctx.MergeFrom(c);
  uint64_t n = want_ctx.Get(h.actors[r]) + 1;
  want_ctx.Set(h.actors[r], n);
  RC_ASSERT(after.context == want_ctx);
  Sibling fresh{Dot{h.actors[r], n}, 1, false, "new"};
  RC_ASSERT(Contains(after, fresh));

  size_t kept = 0;
  for (const Sibling& s : before.siblings) {
    if (c.Covers(s.dot)) {
      RC_ASSERT(!Contains(after, s));
    } else {
      RC_ASSERT(Contains(after, s));
      ++kept;
    }
  }
  RC_ASSERT(after.siblings.size() == kept + 1);
  // Nothing the client saw comes back from any replica, and the new value
  // survives every merge.
  for (const Object& other : h.replicas) {
    for (const Object& merged : {Sync(after, other), Sync(other, after)}) {
      RC_ASSERT(Contains(merged, fresh));
      for (const Sibling& s : merged.siblings) RC_ASSERT(!(c.Covers(s.dot)));
    }
  }
}

RC_GTEST_PROP(ObjectProperty, BlindWritesBecomeSiblings, ()) {
  History h = GenHistory();
  int i = *rc::gen::inRange(0, kReplicas);
  int j = *rc::gen::inRange(0, kReplicas);
  Object wi = Update(h.replicas[i], {}, h.actors[i], 3, false, "blind-1");
  Object result;
  if (i == j) {
    result = Update(wi, {}, h.actors[j], 3, false, "blind-2");
  } else {
    Object wj = Update(h.replicas[j], {}, h.actors[j], 3, false, "blind-2");
    result = Sync(wi, wj);
    RC_ASSERT(Sync(wj, wi) == result);
  }
  int found = 0;
  for (const Sibling* s : result.Values()) {
    if (s->value == "blind-1" || s->value == "blind-2") ++found;
  }
  RC_ASSERT(found == 2);
}

RC_GTEST_PROP(ObjectProperty, CodecRoundTripsAndIsCanonical, ()) {
  History h = GenHistory();
  const Object& a = h.replicas[0];
  const Object& b = h.replicas[1];
  const Object& c = h.replicas[2];
  for (const Object& o : {a, b, c, Sync(a, Sync(b, c))}) {
    std::string bytes = EncodeObject(o);
    Result<Object> back = DecodeObject(bytes);
    RC_ASSERT(back.ok());
    RC_ASSERT(*back == o);
    Result<ClientContext> ctx = DecodeContext(EncodeContext(o.context, "b", "k"));
    RC_ASSERT(ctx.ok());
    RC_ASSERT(ctx->clock == o.context);
  }
  RC_ASSERT(EncodeObject(Sync(a, b)) == EncodeObject(Sync(b, a)));
  // Order-independent up to one more exchange with repeated writes
  // (SyncIsCommutativeAssociativeIdempotent).
  if (h.repeats == 0) {
    RC_ASSERT(EncodeObject(Sync(Sync(a, b), c)) == EncodeObject(Sync(a, Sync(b, c))));
  }
  RC_ASSERT(EncodeContext(Sync(a, c).context, "b", "k") ==
            EncodeContext(Sync(c, a).context, "b", "k"));
}

RC_GTEST_PROP(ObjectProperty, LwwConvergesRegardlessOfOrder, ()) {
  History h = GenHistory();
  const Object& a = h.replicas[0];
  const Object& b = h.replicas[1];
  const Object& c = h.replicas[2];
  Object x = MergeLww(MergeLww(a, b), c);
  Object y = MergeLww(MergeLww(c, b), a);
  RC_ASSERT(x.siblings.size() <= 1);
  RC_ASSERT(x == y);
  RC_ASSERT(MergeLww(a, MergeLww(b, c)) == x);
  RC_ASSERT(MergeLww(x, x) == x);
  RC_ASSERT(MergeLww(a, b) == MergeLww(b, a));
  // Nothing is lost to a cycle: whoever held a sibling, the merge holds one.
  if (!a.siblings.empty() || !b.siblings.empty() || !c.siblings.empty()) {
    RC_ASSERT(x.siblings.size() == 1u);
  }
}

}  // namespace
}  // namespace ringkv
