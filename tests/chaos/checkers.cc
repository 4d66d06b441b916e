#include "tests/chaos/checkers.h"

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <unordered_map>

namespace ringkv::chaos {
namespace {

constexpr size_t kMaxExamples = 20;

std::string KeyName(const std::string& bucket, const std::string& key) {
  return bucket + "/" + key;
}

std::map<std::string, const KeyState*> IndexKeys(const std::vector<KeyState>& keys) {
  std::map<std::string, const KeyState*> index;
  for (const KeyState& k : keys) index[KeyName(k.bucket, k.key)] = &k;
  return index;
}

std::string Seconds(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6f s", us / 1e6);
  return buf;
}

}  // namespace

void CheckResult::Violation(std::string subject, std::string what) {
  ++violations;
  subjects.insert(std::move(subject));
  if (examples.size() < kMaxExamples) examples.push_back(std::move(what));
}

bool Converged(const KeyState& key) {
  for (const ReplicaRead& r : key.replicas) {
    const ReplicaRead& first = key.replicas.front();
    if (!r.answered || r.found != first.found || !(r.object == first.object)) return false;
  }
  return true;
}

Object MergedObject(const KeyState& key) {
  Object merged;
  bool first = true;
  for (const ReplicaRead& r : key.replicas) {
    if (!r.answered || !r.found) continue;
    if (first) {
      merged = key.lww ? ResolveLww(r.object) : r.object;
    } else {
      merged = key.lww ? MergeLww(merged, r.object) : Sync(merged, r.object);
    }
    first = false;
  }
  return merged;
}

CheckResult CheckLost(const std::vector<Op>& ops, const std::vector<KeyState>& keys) {
  CheckResult result("lost");
  const auto index = IndexKeys(keys);
  std::map<std::string, std::set<std::string>> values;  // merged values per key
  for (const Op& op : ops) {
    if (op.outcome != Outcome::kOk) continue;
    const std::string name = KeyName(op.bucket, op.key);
    auto it = index.find(name);
    if (it != index.end() && it->second->lww) continue;
    ++result.checked;
    if (it == index.end()) {
      result.Violation(op.value, "lost (key never read): " + DescribeOp(op));
      continue;
    }
    auto [v, fresh] = values.try_emplace(name);
    if (fresh) {
      const Object merged = MergedObject(*it->second);
      for (const Sibling* s : merged.Values()) v->second.insert(s->value);
    }
    if (v->second.count(op.value) != 0) continue;
    std::string replicas;
    for (const ReplicaRead& r : it->second->replicas) {
      replicas += " n" + std::to_string(r.node) + ": " +
                  (!r.answered ? "no answer"
                   : !r.found  ? "not found"
                               : std::to_string(r.object.Values().size()) + " values") +
                  ";";
    }
    replicas.pop_back();
    result.Violation(op.value, "lost: " + DescribeOp(op) + " (replicas:" + replicas + ")");
  }
  return result;
}

CheckResult CheckNeverWritten(const std::vector<Op>& ops, const std::vector<KeyState>& keys) {
  CheckResult result("never-written");
  std::set<std::tuple<std::string, std::string, std::string>> invoked;
  for (const Op& op : ops) invoked.emplace(op.bucket, op.key, op.value);
  for (const KeyState& k : keys) {
    std::set<std::string> reported;
    for (const ReplicaRead& r : k.replicas) {
      if (!r.answered || !r.found) continue;
      for (const Sibling* s : r.object.Values()) {
        ++result.checked;
        if (invoked.count({k.bucket, k.key, s->value}) != 0) continue;
        if (!reported.insert(s->value).second) continue;
        result.Violation(s->value, "n" + std::to_string(r.node) + " holds " +
                                       KeyName(k.bucket, k.key) + "=" + s->value +
                                       ", which no write invoked");
      }
    }
  }
  return result;
}

CheckResult CheckLwwOrder(const std::vector<Op>& ops, const std::vector<KeyState>& keys) {
  CheckResult result("lww-order");
  std::map<std::string, std::vector<const Op*>> acked;  // per key
  std::unordered_map<std::string, const Op*> by_value;
  for (const Op& op : ops) {
    by_value[op.value] = &op;
    if (op.outcome == Outcome::kOk) acked[KeyName(op.bucket, op.key)].push_back(&op);
  }
  for (const KeyState& k : keys) {
    if (!k.lww) continue;
    ++result.checked;
    const auto writes = acked.find(KeyName(k.bucket, k.key));
    if (writes == acked.end()) continue;
    const Object merged = MergedObject(k);
    const std::vector<const Sibling*> values = merged.Values();
    if (values.empty()) {
      for (const Op* b : writes->second) {
        result.Violation(b->value, "no value left for " + KeyName(k.bucket, k.key) +
                                       " although acknowledged: " + DescribeOp(*b));
      }
      continue;
    }
    // Values never written are the never-written checker's.
    auto winner = by_value.find(values.front()->value);
    if (winner == by_value.end() || winner->second->outcome != Outcome::kOk) continue;
    const Op& w = *winner->second;
    for (const Op* b : writes->second) {
      if (b->invoke_us <= w.complete_us) continue;
      result.Violation(b->value, KeyName(k.bucket, k.key) + ": " + w.value + " (acknowledged at " +
                                     Seconds(w.complete_us) + ") wins over " + b->value +
                                     " (invoked later, at " + Seconds(b->invoke_us) +
                                     ", and acknowledged): " + DescribeOp(*b));
    }
  }
  return result;
}

CheckResult CheckDuplicateSiblings(const std::vector<KeyState>& keys) {
  CheckResult result("duplicate-siblings");
  for (const KeyState& k : keys) {
    std::set<std::string> reported;
    auto check = [&](const Object& object, const std::string& where) {
      std::map<std::string, int> seen;
      for (const Sibling* s : object.Values()) {
        ++result.checked;
        if (++seen[s->value] == 2 && reported.insert(s->value).second) {
          result.Violation(s->value, where + " holds " + KeyName(k.bucket, k.key) + "=" + s->value +
                                         " as two siblings");
        }
      }
    };
    for (const ReplicaRead& r : k.replicas) {
      if (r.answered && r.found) check(r.object, "n" + std::to_string(r.node));
    }
    check(MergedObject(k), "the merge of its replicas");
  }
  return result;
}

CheckResult CheckConvergence(const std::vector<KeyState>& keys) {
  CheckResult result("convergence");
  for (const KeyState& k : keys) {
    ++result.checked;
    std::string why;
    const ReplicaRead* first = nullptr;
    for (const ReplicaRead& r : k.replicas) {
      if (!r.answered) {
        why += " n" + std::to_string(r.node) + " did not answer;";
      } else if (first == nullptr) {
        first = &r;
      } else if (r.found != first->found || !(r.object == first->object)) {
        why +=
            " n" + std::to_string(r.node) + " differs from n" + std::to_string(first->node) + ";";
      }
    }
    if (!why.empty()) {
      why.pop_back();
      result.Violation(KeyName(k.bucket, k.key), KeyName(k.bucket, k.key) + ":" + why);
    }
  }
  return result;
}

bool FaultWindow::Reaches(int a, int b) const {
  if (down.count(a) != 0 || down.count(b) != 0) return false;
  return a == b || cuts.count({std::min(a, b), std::max(a, b)}) == 0;
}

bool WriteShouldSucceed(const FaultWindow& window, int node, const std::vector<int>& primaries,
                        uint32_t w) {
  if (window.down.count(node) != 0) return false;
  for (int coordinator : primaries) {
    if (!window.Reaches(node, coordinator)) continue;
    uint32_t reached = 0;
    for (int p : primaries) reached += window.Reaches(coordinator, p) ? 1 : 0;
    if (reached >= w) return true;
  }
  return false;
}

CheckResult CheckAvailability(const std::vector<Op>& ops, const std::vector<FaultWindow>& windows,
                              const PrimariesFn& primaries_of,
                              const std::map<std::string, uint32_t>& w_of_bucket, double min_share,
                              std::vector<AvailabilityRow>* rows) {
  CheckResult result("availability");
  rows->clear();
  auto row_of = [rows](const std::string& kind) -> AvailabilityRow& {
    for (AvailabilityRow& r : *rows) {
      if (r.kind == kind) return r;
    }
    rows->push_back({kind});
    return rows->back();
  };
  for (const FaultWindow& window : windows) ++row_of(window.kind).windows;
  std::vector<std::pair<std::string, const Op*>> failed;  // kind, write
  for (const Op& op : ops) {
    if (op.outcome == Outcome::kPending) continue;
    auto w = w_of_bucket.find(op.bucket);
    if (w == w_of_bucket.end()) continue;
    for (const FaultWindow& window : windows) {
      if (op.invoke_us < window.start_us || op.complete_us > window.end_us) continue;
      if (!WriteShouldSucceed(window, op.node, primaries_of(op.bucket, op.key), w->second)) break;
      ++result.checked;
      AvailabilityRow& row = row_of(window.kind);
      ++row.expected;
      if (op.outcome == Outcome::kOk) {
        ++row.ok;
      } else {
        failed.emplace_back(window.kind, &op);
      }
      break;
    }
  }
  for (const AvailabilityRow& row : *rows) {
    if (row.expected == 0 || static_cast<double>(row.ok) >= min_share * row.expected) continue;
    for (const auto& [kind, op] : failed) {
      if (kind == row.kind) {
        result.Violation(op->value, "during " + kind + ", " + DescribeOp(*op));
      }
    }
  }
  return result;
}

}  // namespace ringkv::chaos
