// The ringkv object model: dotted version vectors (DVV, Almeida et al.;
// Riak 2.0), in the explicit form of docs/causality.md.
//
// An Object is a set of siblings, each a value or a tombstone with the dot
// (actor, counter) that created it, plus the causal context (a version
// vector) that covers them. Every operation here is a pure function on
// values: no I/O, no clock, no randomness. The coordinator, replicas, read
// repair, hinted handoff, anti-entropy and the client library all use this
// one implementation.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ringkv {

// A coordinating replica. The incarnation changes whenever the node's data
// directory is new (or restored), so a node that lost its data can never mint
// a dot that an older copy of itself already used (kv679).
struct Actor {
  std::string node;
  uint64_t incarnation = 0;
  auto operator<=>(const Actor&) const = default;
  bool operator==(const Actor&) const = default;
};

struct Dot {
  Actor actor;
  uint64_t counter = 0;
  auto operator<=>(const Dot&) const = default;
  bool operator==(const Dot&) const = default;
};

// A version vector: actor -> highest counter seen. Entries are kept sorted by
// actor with no zero counters, so equal vectors have equal entry lists.
class VersionVector {
 public:
  using Entry = std::pair<Actor, uint64_t>;

  VersionVector() = default;
  // REQUIRES: nothing; entries are sorted, deduplicated (max) and zeros dropped.
  explicit VersionVector(std::vector<Entry> entries);

  // Counter for `actor`; 0 when absent.
  uint64_t Get(const Actor& actor) const;
  // Sets `actor`'s counter; 0 removes the entry.
  void Set(const Actor& actor, uint64_t counter);
  // covered(C, (a,k)) := C[a] >= k.
  bool Covers(const Dot& dot) const;
  // True when this >= other pointwise.
  bool Descends(const VersionVector& other) const;
  // Pointwise max.
  void MergeFrom(const VersionVector& other);

  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  bool operator==(const VersionVector&) const = default;

 private:
  std::vector<Entry> entries_;  // sorted by actor, counters > 0
};

// The identity of one client write: 128 random bits minted where the request
// entered the cluster. Zero means "unknown" (records from before write ids),
// and such siblings are never deduplicated.
struct WriteId {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool empty() const { return hi == 0 && lo == 0; }
  auto operator<=>(const WriteId&) const = default;
  bool operator==(const WriteId&) const = default;
};

struct Sibling {
  Dot dot;
  int64_t timestamp_us = 0;  // coordinator's wall clock at write time
  bool tombstone = false;
  std::string value;  // empty for tombstones
  WriteId write_id;
  bool operator==(const Sibling&) const = default;
};

// Canonical sibling order: (dot, tombstone, value, timestamp, write id). Two
// siblings with one dot and different contents (a dot collision,
// docs/causality.md vector 15) are both kept, in this order.
bool SiblingLess(const Sibling& a, const Sibling& b);

struct Object {
  VersionVector context;
  std::vector<Sibling> siblings;  // canonical order, see SiblingLess

  // No siblings, or only tombstones: reads answer not found (with context).
  bool IsDeleted() const;
  // The siblings that are values (tombstones left out), canonical order.
  std::vector<const Sibling*> Values() const;
  bool operator==(const Object&) const = default;
};

// discard(S, C): removes every sibling whose dot C covers.
Object Discard(Object s, const VersionVector& c);

// sync(S1, S2): the causal merge used by replicas, read repair, handoff and
// anti-entropy. Commutative, associative and idempotent. Keeps a sibling of
// one side iff the other side holds the same dot or has not seen it; then,
// of siblings that are one write coordinated twice (equal non-zero write
// id, timestamp, tombstone flag and value, different dots), keeps only the
// last in canonical order: the greatest dot, the copy ResolveLww would keep,
// so that the two never pick different copies and drop both. The dropped dot stays covered by the context,
// so it never comes back.
Object Sync(const Object& a, const Object& b);

// update(S_local, C, r, v) at coordinator `r`: discards what the client's
// context saw, merges C into the context, mints the dot (r, ctx[r]+1) and
// adds the new sibling, stamped with the write's time and id. Deletes pass
// tombstone = true and an empty value.
Object Update(Object local, const VersionVector& client_context, const Actor& coordinator,
              int64_t timestamp_us, bool tombstone, std::string value, WriteId write_id = {});

// True when `s` holds a sibling of the (non-empty) write `id`: the write was
// already coordinated, here or by another primary whose copy arrived.
bool HoldsWrite(const Object& s, const WriteId& id);

// Last-write-wins: keeps only the sibling with the highest
// (timestamp_us, dot.actor.node, dot.actor.incarnation, dot.counter, value);
// the context is unchanged so the dropped siblings never come back. A total
// order, so applying it after Sync keeps Sync commutative.
Object ResolveLww(Object s);

// The merge of two states of a key in a last-write-wins bucket: the union of
// their contexts and, of every sibling either side holds, only the greatest
// by ResolveLww's order. A causally later write does not beat a sibling with
// a later timestamp: with clocks that disagree (a stepped clock, skew),
// honouring both orders can make a cycle (a delete supersedes v2 by context,
// v2 beats v1 by time, v1 beats the delete by time) in which two replicas
// each cover the other's survivor and their Sync keeps nothing. Taking the
// greatest of everything seen is a join (commutative, associative,
// idempotent), so replicas converge on the latest-stamped write, as LWW
// promises.
Object MergeLww(const Object& a, const Object& b);

// Checks the invariants a decoded object must satisfy: context sorted with no
// zero counters, siblings in canonical order without exact duplicates, and
// every dot covered by the context. Returns a description of the first
// violation, or an empty string when valid.
std::string CheckInvariants(const Object& s);

}  // namespace ringkv
