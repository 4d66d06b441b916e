#include "tests/sim/checkers.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "causality/object_codec.h"

namespace ringkv::sim {
namespace {

std::string DotText(const Dot& d) {
  return d.actor.node + "#" + std::to_string(d.actor.incarnation % 10000) + ":" +
         std::to_string(d.counter);
}

// `s` is a copy of the write that made `w`: the same sibling, or (a write
// coordinated twice, folded by the merge) one with the same write id and
// content under another dot.
bool SameWrite(const Sibling& s, const Sibling& w) {
  if (s.dot == w.dot) return s.tombstone == w.tombstone && s.value == w.value;
  return !w.write_id.empty() && s.write_id == w.write_id && s.tombstone == w.tombstone &&
         s.value == w.value;
}

bool HoldsCopy(const Object& o, const Sibling& w) {
  return std::any_of(o.siblings.begin(), o.siblings.end(),
                     [&w](const Sibling& s) { return SameWrite(s, w); });
}

auto LwwKey(const Sibling& s) {
  return std::tie(s.timestamp_us, s.dot.actor.node, s.dot.actor.incarnation, s.dot.counter,
                  s.value);
}

// A later write superseded `w` knowingly when its context came from a read
// that returned a copy of w's sibling and covers that copy's dot. The first
// write to supersede a sibling must have seen it, so this covers chains too.
// A context that covers w's dot without having seen w (a dot reused after a
// wipe, kv679; a sibling a merge dropped) does not excuse a loss.
// The copy of w (the sibling w wrote, or, for a write coordinated twice,
// the other primary's copy with the same write id) that a later write saw
// and superseded; nullopt when no client superseded w.
std::optional<Dot> Superseded(const History& history, const std::vector<const Op*>& writers,
                              const Op& w) {
  for (const Op* o : writers) {
    if (o->invoke_us <= w.invoke_us || o->based_on < 0) continue;
    const Op& read = history.ops()[o->based_on];
    for (const Sibling& s : read.object.siblings) {
      if (SameWrite(s, w.sibling) && o->context.Covers(s.dot)) return s.dot;
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string> KeysOf(const History& history, const std::string& bucket) {
  std::set<std::string> keys;
  for (const Op& op : history.ops()) {
    if (op.bucket == bucket) keys.insert(op.key);
  }
  return {keys.begin(), keys.end()};
}

namespace {

// NoLostWrites with an excuse: a missing write for which `excused` holds is
// counted in r.excused instead of failing.
CheckResult LostWrites(SimCluster& cluster, const History& history, const std::string& bucket,
                       const std::string& name, const std::function<bool(const Op&)>& excused) {
  CheckResult r;
  r.name = name;
  // Per key: the contexts every issued write carried (ok or not: a failed
  // write may still have been applied somewhere).
  std::map<std::string, std::vector<const Op*>> superseders;
  std::map<std::string, std::vector<const Op*>> acked;
  for (const Op& op : history.ops()) {
    if (op.bucket != bucket || op.type == OpType::kGet) continue;
    if (!op.context.empty()) superseders[op.key].push_back(&op);
    if (op.outcome == Outcome::kOk) acked[op.key].push_back(&op);
  }
  for (const auto& [key, ops] : acked) {
    std::vector<int> replicas = cluster.Primaries(bucket, key);
    std::vector<std::optional<Object>> stored;
    for (int i : replicas) {
      auto s = cluster.ReadStored(i, bucket, key);
      if (!s.ok()) {
        r.Fail(key + " on " + cluster.id(i) + ": unreadable: " + s.status().ToString());
        stored.emplace_back();
      } else {
        stored.push_back(std::move(s).value());
      }
    }
    const bool reaping = cluster.options().aae.enabled;
    for (const Op* op : ops) {
      ++r.checked;
      if (!op->has_dot) {
        // A delete's tombstone can be ambiguous among concurrent deletes;
        // a put's reply must hold its (unique) value.
        if (op->type == OpType::kPut) {
          r.Fail("acknowledged put whose reply does not hold its value: " + DescribeOp(*op));
        }
        continue;
      }
      const Dot& dot = op->sibling.dot;
      std::optional<Dot> superseded = Superseded(history, superseders[key], *op);
      bool excuse_counted = false;
      for (size_t j = 0; j < replicas.size(); ++j) {
        const std::optional<Object>& o = stored[j];
        if (o && HoldsCopy(*o, op->sibling)) continue;
        if (o && superseded && o->context.Covers(*superseded)) continue;
        // With reaping, a tombstone may be gone (then its key written
        // again, from a context that never saw it), and with it what it
        // superseded: nothing a client did not knowingly delete or
        // overwrite. A value nobody superseded is still owed its place.
        if (reaping && (op->type == OpType::kDelete || superseded)) continue;
        if (excused && excused(*op)) {
          r.excused += excuse_counted ? 0 : 1;
          excuse_counted = true;
          continue;
        }
        std::string why = !o                          ? "key absent"
                          : !o->context.Covers(dot)   ? "dot not in the replica's context"
                                                      : "dot covered but no client superseded it";
        r.Fail("acknowledged write lost on " + cluster.id(replicas[j]) + " (" + why +
               ", dot " + DotText(dot) + "): " + DescribeOp(*op));
      }
    }
  }
  return r;
}

}  // namespace

CheckResult CheckNoLostWrites(SimCluster& cluster, const History& history,
                              const std::string& bucket) {
  return LostWrites(cluster, history, bucket, "no-lost-writes", nullptr);
}

CheckResult CheckHandoffComplete(SimCluster& cluster, const History& history,
                                 const std::string& bucket,
                                 const std::vector<int64_t>& disk_losses) {
  // The coordinator starts the put when its loop gets to it (late, if it
  // was paused) and no later than it replied, and finishes it by a
  // timeout after that; plus the forwarding hop and clock drift.
  constexpr int64_t kSlackUs = 100'000;
  return LostWrites(cluster, history, bucket, "handoff-complete", [&](const Op& op) {
    for (int64_t lost_us : disk_losses) {
      if (op.invoke_us < lost_us) return true;
    }
    int coordinator = cluster.IndexOf(op.sibling.dot.actor.node);
    int64_t finish_by = op.complete_us + (op.deadline_us - op.invoke_us) + kSlackUs;
    return coordinator >= 0 && cluster.KilledDuring(coordinator, op.invoke_us, finish_by);
  });
}

CheckResult CheckHintsDrained(const HintDrain& drain) {
  CheckResult r;
  r.name = "hints-drained";
  r.checked = drain.pending_at_heal;
  if (!drain.drained) {
    r.Fail("hints still pending " + std::to_string(drain.bound_us / 1000) +
           " ms after the heal: " + drain.leftover);
  }
  return r;
}

CheckResult CheckConvergence(SimCluster& cluster, const History& history,
                             const std::string& bucket) {
  CheckResult r;
  r.name = "convergence";
  for (const std::string& key : KeysOf(history, bucket)) {
    ++r.checked;
    std::vector<int> replicas = cluster.Primaries(bucket, key);
    std::optional<std::optional<Object>> first;
    for (int i : replicas) {
      auto s = cluster.ReadStored(i, bucket, key);
      if (!s.ok()) {
        r.Fail(key + " on " + cluster.id(i) + ": unreadable: " + s.status().ToString());
        continue;
      }
      if (!first) {
        first = std::move(s).value();
      } else if (*first != *s) {
        r.Fail("replicas of " + bucket + "/" + key + " differ: " + cluster.id(replicas[0]) +
               " has " + std::to_string(first->has_value() ? (*first)->siblings.size() : 0) +
               " siblings, " + cluster.id(i) + " has " +
               std::to_string(s->has_value() ? (*s)->siblings.size() : 0));
        break;
      }
    }
  }
  return r;
}

CheckResult CheckNoResurrection(SimCluster& cluster, const History& history,
                                const std::string& bucket) {
  CheckResult r;
  r.name = "no-resurrection";
  for (const Op& d : history.ops()) {
    if (d.bucket != bucket || d.type != OpType::kDelete || d.outcome != Outcome::kOk ||
        d.based_on < 0) {
      continue;
    }
    const Op& read = history.ops()[d.based_on];
    for (const Sibling& s : read.object.siblings) {
      if (s.tombstone || !d.context.Covers(s.dot)) continue;
      ++r.checked;
      for (int i : cluster.Primaries(bucket, d.key)) {
        auto o = cluster.ReadStored(i, bucket, d.key);
        if (!o.ok() || !o->has_value()) continue;
        for (const Sibling& held : (*o)->siblings) {
          if (held.dot == s.dot && !held.tombstone) {
            r.Fail(bucket + "/" + d.key + " on " + cluster.id(i) + " holds value dot " +
                   DotText(s.dot) + " that an acknowledged delete removed: " + DescribeOp(d));
          }
        }
      }
    }
  }
  return r;
}

CheckResult CheckAaeConvergence(SimCluster& cluster, const History& history,
                                const std::string& bucket) {
  CheckResult r;
  r.name = "aae-convergence";
  for (const std::string& key : KeysOf(history, bucket)) {
    ++r.checked;
    std::optional<std::optional<std::string>> first;
    int first_node = -1;
    for (int i : cluster.Primaries(bucket, key)) {
      auto s = cluster.ReadStored(i, bucket, key);
      if (!s.ok()) {
        r.Fail(key + " on " + cluster.id(i) + ": unreadable: " + s.status().ToString());
        continue;
      }
      std::optional<std::string> bytes;
      if (s->has_value()) bytes = EncodeObject(**s);
      if (!first) {
        first = std::move(bytes);
        first_node = i;
      } else if (*first != bytes) {
        r.Fail(bucket + "/" + key + " is not byte-identical on " + cluster.id(first_node) +
               " (" + (first->has_value() ? std::to_string((*first)->size()) + " bytes" : "none") +
               ") and " + cluster.id(i) + " (" +
               (bytes ? std::to_string(bytes->size()) + " bytes" : "none") + ")");
        break;
      }
    }
  }
  return r;
}

CheckResult CheckLww(SimCluster& cluster, const History& history, const std::string& bucket) {
  CheckResult r;
  r.name = "lww";
  std::map<std::string, std::vector<const Op*>> acked;
  std::map<std::string, std::vector<const Op*>> superseders;
  for (const Op& op : history.ops()) {
    if (op.bucket != bucket || op.type == OpType::kGet) continue;
    if (!op.context.empty()) superseders[op.key].push_back(&op);
    if (op.outcome == Outcome::kOk) acked[op.key].push_back(&op);
  }
  for (const auto& [key, ops] : acked) {
    for (int i : cluster.Primaries(bucket, key)) {
      auto s = cluster.ReadStored(i, bucket, key);
      if (!s.ok() || !s->has_value()) {
        r.Fail(bucket + "/" + key + " missing on " + cluster.id(i) + " after acknowledged writes");
        continue;
      }
      const Object& o = **s;
      if (o.siblings.size() != 1) {
        r.Fail(bucket + "/" + key + " on " + cluster.id(i) + " holds " +
               std::to_string(o.siblings.size()) + " siblings under LWW");
        continue;
      }
      const Sibling& winner = o.siblings[0];
      for (const Op* op : ops) {
        if (!op->has_dot) continue;
        // A write whose dot a later client context covered was replaced
        // causally, whatever its timestamp.
        if (Superseded(history, superseders[key], *op)) continue;
        // LWW may have dropped it for a later-stamped write, which a client
        // may in turn have superseded causally: only the latest-stamped
        // acknowledged write is owed a place.
        if (std::any_of(ops.begin(), ops.end(), [&](const Op* o) {
              return o->has_dot && LwwKey(o->sibling) > LwwKey(op->sibling);
            })) {
          continue;
        }
        // The same write coordinated twice keeps one copy, maybe the other dot.
        if (SameWrite(winner, op->sibling)) continue;
        if (LwwKey(op->sibling) > LwwKey(winner)) {
          r.Fail(bucket + "/" + key + " on " + cluster.id(i) + ": kept " + DotText(winner.dot) +
                 " @" + std::to_string(winner.timestamp_us) + " over the later-stamped " +
                 DescribeOp(*op) + " @" + std::to_string(op->sibling.timestamp_us));
        }
      }
    }
    // Counted once per key, against the first replica's winner.
    auto s = cluster.ReadStored(cluster.Primaries(bucket, key)[0], bucket, key);
    for (const Op* op : ops) {
      ++r.checked;
      if (!op->has_dot || !s.ok() || !s->has_value() || (*s)->siblings.empty() ||
          (*s)->siblings[0].dot != op->sibling.dot) {
        ++r.discarded;
      }
    }
  }
  return r;
}

namespace {

// The write that created `s`, if the history has it: a put by its value
// (unique per bucket), a delete by the dot its reply named.
const Op* WriterOf(const std::vector<const Op*>& writes, const Sibling& s) {
  for (const Op* op : writes) {
    if (s.tombstone ? (op->type == OpType::kDelete && op->has_dot && op->sibling.dot == s.dot)
                    : (op->type == OpType::kPut && op->value == s.value)) {
      return op;
    }
  }
  return nullptr;
}

std::string StampedText(const Sibling& s) {
  return "dot " + DotText(s.dot) + " @" + std::to_string(s.timestamp_us);
}

}  // namespace

CheckResult CheckLwwOrder(SimCluster& cluster, const History& history, const std::string& bucket,
                          int64_t max_wall_error_us) {
  CheckResult r;
  r.name = "lww-order";
  std::map<std::string, std::vector<const Op*>> writes;
  for (const Op& op : history.ops()) {
    if (op.bucket == bucket && op.type != OpType::kGet) writes[op.key].push_back(&op);
  }
  // Stamps of X and Y may each be off by the error in opposite directions.
  const int64_t margin_us = 2 * max_wall_error_us;
  for (const auto& [key, ops] : writes) {
    const Op* latest = nullptr;  // the acknowledged write invoked last
    for (const Op* op : ops) {
      if (op->outcome == Outcome::kOk && (!latest || op->invoke_us > latest->invoke_us)) {
        latest = op;
      }
    }
    if (!latest) continue;
    for (int i : cluster.Primaries(bucket, key)) {
      auto s = cluster.ReadStored(i, bucket, key);
      if (!s.ok() || !s->has_value()) continue;  // Lww reports missing objects
      ++r.checked;
      for (const Sibling& kept : (*s)->siblings) {
        const Op* x = WriterOf(ops, kept);
        if (!x || x == latest || x->outcome != Outcome::kOk) continue;
        int64_t gap_us = latest->invoke_us - x->complete_us;
        if (gap_us <= margin_us) continue;
        r.Fail(bucket + "/" + key + " on " + cluster.id(i) + " kept " + StampedText(kept) + " of " +
               DescribeOp(*x) + ", acknowledged " + std::to_string(gap_us / 1000) + " ms before " +
               DescribeOp(*latest) +
               (latest->has_dot ? " @" + std::to_string(latest->sibling.timestamp_us) : "") +
               " was invoked (clocks off by at most " + std::to_string(max_wall_error_us / 1000) +
               " ms)");
      }
    }
  }
  return r;
}

CheckResult CheckNoDuplicateSiblings(SimCluster& cluster, const History& history,
                                     const std::string& bucket) {
  CheckResult r;
  r.name = "no-duplicate-siblings";
  std::map<std::string, std::vector<const Op*>> writes;
  for (const Op& op : history.ops()) {
    if (op.bucket == bucket && op.type == OpType::kPut) writes[op.key].push_back(&op);
  }
  for (const auto& [key, ops] : writes) {
    for (int i : cluster.Primaries(bucket, key)) {
      auto s = cluster.ReadStored(i, bucket, key);
      if (!s.ok() || !s->has_value()) continue;
      ++r.checked;
      std::map<std::string, std::vector<const Sibling*>> by_value;
      for (const Sibling& sib : (*s)->siblings) {
        if (!sib.tombstone) by_value[sib.value].push_back(&sib);
      }
      for (const auto& [value, sibs] : by_value) {
        if (sibs.size() < 2) continue;
        std::string dots;
        for (const Sibling* sib : sibs) dots += (dots.empty() ? "" : ", ") + StampedText(*sib);
        const Op* writer = WriterOf(ops, *sibs[0]);
        r.Fail(bucket + "/" + key + " on " + cluster.id(i) + " holds value " + value + " in " +
               std::to_string(sibs.size()) + " siblings (" + dots + "): one write applied " +
               std::to_string(sibs.size()) + " times: " +
               (writer ? DescribeOp(*writer) : std::string("a write the history does not have")));
      }
    }
  }
  return r;
}

CheckResult CheckNoHangs(const std::vector<std::string>& hangs) {
  CheckResult r;
  r.name = "no-hangs";
  for (const std::string& h : hangs) r.Fail(h);
  return r;
}

}  // namespace ringkv::sim
