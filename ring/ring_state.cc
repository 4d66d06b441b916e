#include "ring/ring_state.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <utility>

#include "common/hash.h"

namespace ringkv {
namespace {

constexpr size_t kMaxNameBytes = 255;
constexpr uint32_t kMaxPartitions = 1u << 20;


bool Mentions(const StagedChange& c, const NodeId& node) {
  return c.node == node || c.with == node;
}

bool Replaces(StagedChange::Kind kind) {
  return kind == StagedChange::Kind::kReplace || kind == StagedChange::Kind::kForceReplace;
}

// The members the next ring is built over: valid and down ones and staged
// joins, without the members a staged change takes out, with the ones
// that replace them.
std::vector<NodeId> NextMembers(const RingState& state) {
  std::set<NodeId> next;
  for (const StateMember& m : state.members) {
    if (m.status == MemberStatus::kValid || m.status == MemberStatus::kDown) next.insert(m.id);
  }
  for (const StagedChange& c : state.staged) {
    if (c.kind == StagedChange::Kind::kJoin) {
      next.insert(c.node);
    } else {
      next.erase(c.node);
      if (Replaces(c.kind)) next.insert(c.with);
    }
  }
  return {next.begin(), next.end()};
}

// Per partition, the replicas the next ring adds, each paired with one the
// current ring drops (or, when none drops, its first replica) to stream
// from; a `dead` member never sends, another current replica does.
std::vector<Move> MovesBetween(const Ring& from, const Ring& to, uint32_t n,
                               const std::set<NodeId>& dead) {
  std::vector<Move> moves;
  for (uint32_t p = 0; p < from.partitions(); ++p) {
    const std::vector<NodeId> before = from.PlacementForPartition(p, n).primaries;
    const std::vector<NodeId> after = to.PlacementForPartition(p, n).primaries;
    std::vector<NodeId> added, dropped;
    for (const NodeId& node : after) {
      if (std::find(before.begin(), before.end(), node) == before.end()) added.push_back(node);
    }
    for (const NodeId& node : before) {
      if (std::find(after.begin(), after.end(), node) == after.end()) dropped.push_back(node);
    }
    NodeId alive = before.front();
    for (const NodeId& node : before) {
      if (dead.count(node) == 0) {
        alive = node;
        break;
      }
    }
    for (size_t i = 0; i < added.size(); ++i) {
      NodeId sender = i < dropped.size() ? dropped[i] : before.front();
      if (dead.count(sender) != 0) sender = alive;
      moves.push_back({p, sender, added[i], false});
    }
  }
  return moves;
}

bool AnyForced(const std::vector<StagedChange>& staged) {
  return std::any_of(staged.begin(), staged.end(),
                     [](const StagedChange& c) { return c.forced(); });
}

Status RefuseBesideForced(const RingState& state) {
  if (AnyForced(state.staged)) {
    return Status::InvalidArgument(
        "a forced change is staged and is committed alone: commit it or clear it first");
  }
  return Status::OK();
}

std::string PlanId(const RingState& state, const std::vector<Move>& moves,
                   const std::vector<NodeId>& next_owners) {
  std::string text = std::to_string(state.epoch);
  for (const StagedChange& c : state.staged) {
    text += std::to_string(static_cast<int>(c.kind)) + c.node + ">" + c.with + ",";
  }
  for (const Move& m : moves) {
    text += std::to_string(m.partition) + ":" + m.from + ">" + m.to + ";";
  }
  for (const NodeId& o : next_owners) text += o + ",";
  char id[17];
  std::snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(Hash64(text)));
  return id;
}

StateMember* FindMutable(RingState& state, const NodeId& id) {
  auto it = std::lower_bound(state.members.begin(), state.members.end(), id,
                             [](const StateMember& m, const NodeId& v) { return m.id < v; });
  return it != state.members.end() && it->id == id ? &*it : nullptr;
}

// NotFound unless `node` is a member, InvalidArgument unless a valid one;
// `action` ends "only a valid member can ...".
Status RequireValid(const RingState& state, const NodeId& node, const char* action) {
  const StateMember* m = state.Find(node);
  if (m == nullptr) return Status::NotFound("'" + node + "' is not a member");
  if (m->status != MemberStatus::kValid) {
    return Status::InvalidArgument("'" + node + "' is " + MemberStatusName(m->status) +
                                   ", only a valid member can " + action);
  }
  return Status::OK();
}

// Names unique and bounded, the defaults (empty name) first if at all,
// 1 <= r, w <= n <= 64, sibling caps in range: what every node applies as
// its bucket table when it adopts the state.
Status ValidateBuckets(const std::vector<BucketInfo>& buckets) {
  if (buckets.size() > kMaxStateBuckets) {
    return Status::InvalidArgument(std::to_string(buckets.size()) + " buckets, over " +
                                   std::to_string(kMaxStateBuckets));
  }
  std::set<std::string> names;
  for (size_t i = 0; i < buckets.size(); ++i) {
    const BucketInfo& b = buckets[i];
    const std::string what = b.name.empty() ? "the bucket defaults" : "bucket '" + b.name + "'";
    if (b.name.size() > kMaxNameBytes || (b.name.empty() && i != 0) ||
        !names.insert(b.name).second) {
      return Status::InvalidArgument("bucket names not unique, over 255 bytes, or the defaults "
                                     "not first");
    }
    if (b.n == 0 || b.n > 64 || b.r == 0 || b.r > b.n || b.w == 0 || b.w > b.n) {
      return Status::InvalidArgument(what + ": n, r or w out of range (1 <= r, w <= n <= 64)");
    }
    if (b.resolver.empty() || b.resolver.size() > 64 || b.plugin_hash.size() > 64 ||
        b.max_siblings == 0 || b.max_siblings > kMaxStateSiblingCap ||
        b.warn_siblings == 0 || b.warn_siblings > b.max_siblings) {
      return Status::InvalidArgument(what + ": resolver, plugin hash or sibling caps out of "
                                            "range");
    }
  }
  return Status::OK();
}

}  // namespace

bool OwnsPartitions(MemberStatus status) {
  return status == MemberStatus::kValid || status == MemberStatus::kLeaving ||
         status == MemberStatus::kDown;
}

const char* MemberStatusName(MemberStatus status) {
  switch (status) {
    case MemberStatus::kJoining: return "joining";
    case MemberStatus::kValid: return "valid";
    case MemberStatus::kLeaving: return "leaving";
    case MemberStatus::kExiting: return "exiting";
    case MemberStatus::kDown: return "down";
  }
  return "unknown";
}

const char* StagedKindName(StagedChange::Kind kind) {
  switch (kind) {
    case StagedChange::Kind::kJoin: return "join";
    case StagedChange::Kind::kLeave: return "leave";
    case StagedChange::Kind::kReplace: return "replace";
    case StagedChange::Kind::kForceRemove: return "force-remove";
    case StagedChange::Kind::kForceReplace: return "force-replace";
  }
  return "unknown";
}

const StateMember* RingState::Find(const NodeId& id) const {
  auto it = std::lower_bound(members.begin(), members.end(), id,
                             [](const StateMember& m, const NodeId& v) { return m.id < v; });
  return it != members.end() && it->id == id ? &*it : nullptr;
}

uint32_t RingState::max_n() const {
  uint32_t most = n;
  for (const BucketInfo& b : buckets) most = std::max(most, b.n);
  return most;
}

Result<RingState> BootstrapState(std::vector<StateMember> members, uint32_t partitions,
                                 uint32_t n, std::vector<BucketInfo> buckets) {
  std::sort(members.begin(), members.end(),
            [](const StateMember& a, const StateMember& b) { return a.id < b.id; });
  std::vector<NodeId> ids;
  for (const StateMember& m : members) ids.push_back(m.id);
  Result<Ring> ring = Ring::Create(ids, partitions, n, 1);
  if (!ring.ok()) return ring.status();
  RingState state;
  state.epoch = 1;
  state.partitions = partitions;
  state.n = n;
  state.members = std::move(members);
  for (StateMember& m : state.members) m.status = MemberStatus::kValid;
  for (uint32_t p = 0; p < partitions; ++p) state.owners.push_back(ring->Owner(p));
  state.buckets = std::move(buckets);
  RINGKV_RETURN_IF_ERROR(ValidateState(state));
  return state;
}

Status ValidateState(const RingState& state) {
  if (state.partitions == 0 || state.partitions > kMaxPartitions ||
      !std::has_single_bit(state.partitions)) {
    return Status::InvalidArgument("partitions " + std::to_string(state.partitions) +
                                   " is not a power of two in [1, 2^20]");
  }
  if (state.n == 0 || state.n > 64) return Status::InvalidArgument("n out of [1, 64]");
  if (state.epoch == 0) return Status::InvalidArgument("epoch 0");
  if (state.members.empty() || state.members.size() > kMaxStateMembers) {
    return Status::InvalidArgument(std::to_string(state.members.size()) +
                                   " members, not in [1, 1024]");
  }
  for (size_t i = 0; i < state.members.size(); ++i) {
    const StateMember& m = state.members[i];
    if (m.id.empty() || m.id.size() > kMaxNameBytes || m.address.size() > kMaxNameBytes) {
      return Status::InvalidArgument("member name or address empty or over 255 bytes");
    }
    if (i > 0 && !(state.members[i - 1].id < m.id)) {
      return Status::InvalidArgument("members not sorted and unique at '" + m.id + "'");
    }
    if (static_cast<uint8_t>(m.status) > static_cast<uint8_t>(MemberStatus::kDown)) {
      return Status::InvalidArgument("member '" + m.id + "' has an unknown status");
    }
  }
  auto owner_ok = [&state](const NodeId& id) {
    const StateMember* m = state.Find(id);
    return m != nullptr && OwnsPartitions(m->status);
  };
  if (state.owners.size() != state.partitions) {
    return Status::InvalidArgument("owners list has " + std::to_string(state.owners.size()) +
                                   " entries for " + std::to_string(state.partitions) +
                                   " partitions");
  }
  for (const NodeId& o : state.owners) {
    if (!owner_ok(o)) return Status::InvalidArgument("owner '" + o + "' is not a valid member");
  }
  if (!state.next_owners.empty()) {
    if (state.next_owners.size() != state.partitions) {
      return Status::InvalidArgument("next owners list of the wrong size");
    }
    for (const NodeId& o : state.next_owners) {
      if (state.Find(o) == nullptr) {
        return Status::InvalidArgument("next owner '" + o + "' is not a member");
      }
    }
  }
  for (const Move& m : state.transfers) {
    if (m.partition >= state.partitions || state.Find(m.from) == nullptr ||
        state.Find(m.to) == nullptr) {
      return Status::InvalidArgument("transfer of partition " + std::to_string(m.partition) +
                                     " names an unknown partition or member");
    }
  }
  if (!state.transfers.empty() && state.next_owners.empty()) {
    return Status::InvalidArgument("transfers without a change in flight");
  }
  if (state.limits.per_node > kMaxTransfersPerNode ||
      !(state.limits.mib_per_sec <= kMaxTransferMibPerSec)) {
    return Status::InvalidArgument("transfer limits out of range");
  }
  RINGKV_RETURN_IF_ERROR(ValidateBuckets(state.buckets));
  for (const StagedChange& c : state.staged) {
    if (static_cast<uint8_t>(c.kind) > static_cast<uint8_t>(StagedChange::Kind::kForceReplace)) {
      return Status::InvalidArgument("staged change of unknown kind");
    }
    if (state.Find(c.node) == nullptr || (Replaces(c.kind) && state.Find(c.with) == nullptr)) {
      return Status::InvalidArgument("staged change names unknown member '" + c.node + "'");
    }
  }
  return Status::OK();
}

Result<Ring> PlacementRing(const RingState& state) {
  std::vector<NodeId> members;
  for (const StateMember& m : state.members) {
    if (OwnsPartitions(m.status)) members.push_back(m.id);
  }
  Result<Ring> ring = Ring::FromOwners(std::move(members), state.owners, state.n, state.epoch);
  if (!ring.ok()) return ring.status();
  std::vector<Handover> handovers;
  for (const Move& m : state.transfers) handovers.push_back({m.partition, m.from, m.to});
  ring->set_handovers(std::move(handovers));
  std::vector<NodeId> departing;
  for (const StateMember& m : state.members) {
    if (m.status == MemberStatus::kLeaving) departing.push_back(m.id);
  }
  ring->set_departing(std::move(departing));
  return ring;
}

Result<Ring> NextRing(const RingState& state) {
  if (!state.changing()) {
    Result<Ring> ring = PlacementRing(state);
    if (ring.ok()) ring->set_handovers({});
    return ring;
  }
  std::set<NodeId> members(state.next_owners.begin(), state.next_owners.end());
  for (const StateMember& m : state.members) {
    if (m.status == MemberStatus::kValid || m.status == MemberStatus::kJoining) {
      members.insert(m.id);
    }
  }
  // Members that join and own nothing (Q < M) still take placement.
  return Ring::FromOwners({members.begin(), members.end()}, state.next_owners, state.n,
                          state.epoch);
}

std::optional<NodeId> Claimant(const RingState& state) {
  for (const StateMember& m : state.members) {
    if (m.status == MemberStatus::kValid) return m.id;
  }
  return std::nullopt;
}

Result<RingState> StageJoin(const RingState& state, const NodeId& node,
                            const std::string& address) {
  RINGKV_RETURN_IF_ERROR(RefuseBesideForced(state));
  if (node.empty() || node.size() > kMaxNameBytes || address.empty() ||
      address.size() > kMaxNameBytes) {
    return Status::InvalidArgument("a join needs a node id and an address of 1 to 255 bytes");
  }
  RingState next = state;
  StateMember* known = FindMutable(next, node);
  if (known != nullptr && known->status != MemberStatus::kJoining &&
      known->status != MemberStatus::kExiting) {
    return Status::InvalidArgument("'" + node + "' is already a " +
                                   MemberStatusName(known->status) + " member");
  }
  if (known == nullptr && next.members.size() >= kMaxStateMembers) {
    return Status::InvalidArgument("the ring already has 1024 members");
  }
  if (known != nullptr) {
    known->address = address;
    known->status = MemberStatus::kJoining;
  } else {
    StateMember m{node, address, MemberStatus::kJoining};
    next.members.insert(std::upper_bound(next.members.begin(), next.members.end(), m,
                                         [](const StateMember& a, const StateMember& b) {
                                           return a.id < b.id;
                                         }),
                        m);
  }
  std::erase_if(next.staged, [&node](const StagedChange& c) { return Mentions(c, node); });
  next.staged.push_back({StagedChange::Kind::kJoin, node, {}});
  ++next.epoch;
  return next;
}

Result<RingState> StageLeave(const RingState& state, const NodeId& node) {
  RINGKV_RETURN_IF_ERROR(RefuseBesideForced(state));
  RINGKV_RETURN_IF_ERROR(RequireValid(state, node, "leave"));
  RingState next = state;
  std::erase_if(next.staged, [&node](const StagedChange& c) { return Mentions(c, node); });
  next.staged.push_back({StagedChange::Kind::kLeave, node, {}});
  if (NextMembers(next).empty()) {
    return Status::InvalidArgument("'" + node + "' is the last valid member; it cannot leave");
  }
  ++next.epoch;
  return next;
}

Result<RingState> ClearStaged(const RingState& state) {
  RingState next = state;
  for (const StagedChange& c : state.staged) {
    // A staged join that is cleared forgets the joining node, as does a
    // replace its replacement.
    const NodeId& joiner = c.kind == StagedChange::Kind::kJoin ? c.node : c.with;
    const StateMember* m = joiner.empty() ? nullptr : state.Find(joiner);
    if (m != nullptr && m->status == MemberStatus::kJoining) {
      std::erase_if(next.members, [&joiner](const StateMember& x) { return x.id == joiner; });
    }
  }
  next.staged.clear();
  ++next.epoch;
  return next;
}

Result<TransferLimits> ParseTransferLimits(std::string_view text, TransferLimits current) {
  if (text.empty() || text.size() > 256) {
    return Status::InvalidArgument("limits: give max=N and/or mib-per-s=X (or =default)");
  }
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t eq = item.find('=');
    const std::string_view name = item.substr(0, eq);
    const std::string value(eq == std::string_view::npos ? std::string_view()
                                                         : item.substr(eq + 1));
    char* end = nullptr;
    if (name == "max") {
      if (value == "default") {
        current.per_node = 0;
        continue;
      }
      const unsigned long n = std::strtoul(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || value[0] == '-' || n < 1 || n > kMaxTransfersPerNode) {
        return Status::InvalidArgument("max=" + value + ": streams per node, 1 to " +
                                       std::to_string(kMaxTransfersPerNode) + " or default");
      }
      current.per_node = static_cast<uint32_t>(n);
    } else if (name == "mib-per-s") {
      if (value == "default") {
        current.mib_per_sec = -1;
        continue;
      }
      const double x = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !std::isfinite(x) || x < 0 ||
          x > kMaxTransferMibPerSec) {
        return Status::InvalidArgument("mib-per-s=" + value +
                                       ": MiB/s per sending node, 0 (unpaced) to 100000 or "
                                       "default");
      }
      current.mib_per_sec = x;
    } else {
      return Status::InvalidArgument("limits: unknown setting '" + std::string(name) +
                                     "' (max, mib-per-s)");
    }
  }
  return current;
}

Result<RingState> SetTransferLimits(const RingState& state, const TransferLimits& limits) {
  RingState next = state;
  next.limits = limits;
  RINGKV_RETURN_IF_ERROR(ValidateState(next));
  ++next.epoch;
  return next;
}

Result<RingState> SetBucket(const RingState& state, BucketInfo bucket) {
  RingState next = state;
  auto it = std::find_if(next.buckets.begin(), next.buckets.end(),
                         [&bucket](const BucketInfo& b) { return b.name == bucket.name; });
  if (it != next.buckets.end()) {
    *it = std::move(bucket);
  } else if (bucket.name.empty()) {
    next.buckets.insert(next.buckets.begin(), std::move(bucket));
  } else {
    next.buckets.push_back(std::move(bucket));
  }
  RINGKV_RETURN_IF_ERROR(ValidateBuckets(next.buckets));
  ++next.epoch;
  return next;
}

namespace {

// The checks every replace and forced change shares; the next epoch with
// `change` staged in place of whatever named its members.
Result<RingState> StageTakeOver(const RingState& state, StagedChange change) {
  const NodeId& node = change.node;
  const StateMember* m = state.Find(node);
  if (m == nullptr) return Status::NotFound("'" + node + "' is not a member");
  const bool dead_ok = change.forced();
  if (m->status != MemberStatus::kValid && !(dead_ok && m->status == MemberStatus::kDown)) {
    return Status::InvalidArgument("'" + node + "' is " + MemberStatusName(m->status) + ", " +
                                   (dead_ok ? "only a valid or down" : "only a valid") +
                                   " member can be " + StagedKindName(change.kind) + "d");
  }
  if (Replaces(change.kind)) {
    const StateMember* with = state.Find(change.with);
    if (with == nullptr || with->status != MemberStatus::kJoining) {
      return Status::InvalidArgument(
          "'" + change.with + "' is not a joining member: start it with ringkv-node --join "
          "(or stage ringkv-admin ring join) first");
    }
  }
  RingState next = state;
  std::erase_if(next.staged, [&change](const StagedChange& c) {
    return Mentions(c, change.node) || (!change.with.empty() && Mentions(c, change.with));
  });
  if (change.forced()) {
    for (const StagedChange& c : next.staged) {
      if (!c.forced()) {
        return Status::InvalidArgument(
            "a forced change is committed alone: commit or clear the staged changes first (" +
            std::string(StagedKindName(c.kind)) + " " + c.node + ")");
      }
    }
  } else {
    RINGKV_RETURN_IF_ERROR(RefuseBesideForced(next));
  }
  next.staged.push_back(std::move(change));
  if (NextMembers(next).empty()) {
    return Status::InvalidArgument("'" + node + "' is the last member that owns partitions");
  }
  ++next.epoch;
  return next;
}

}  // namespace

Result<RingState> StageReplace(const RingState& state, const NodeId& node, const NodeId& with) {
  if (node == with) return Status::InvalidArgument("a member cannot replace itself");
  return StageTakeOver(state, {StagedChange::Kind::kReplace, node, with});
}

Result<RingState> StageForceRemove(const RingState& state, const NodeId& node) {
  return StageTakeOver(state, {StagedChange::Kind::kForceRemove, node, {}});
}

Result<RingState> StageForceReplace(const RingState& state, const NodeId& node,
                                    const NodeId& with) {
  if (node == with) return Status::InvalidArgument("a member cannot replace itself");
  return StageTakeOver(state, {StagedChange::Kind::kForceReplace, node, with});
}

Result<RingState> MarkDown(const RingState& state, const NodeId& node) {
  RINGKV_RETURN_IF_ERROR(RequireValid(state, node, "be marked down"));
  RingState next = state;
  FindMutable(next, node)->status = MemberStatus::kDown;
  if (!Claimant(next)) {
    return Status::InvalidArgument("'" + node + "' is the last valid member");
  }
  Result<Ring> ring = PlacementRing(state);
  if (!ring.ok()) return ring.status();
  for (Move& move : next.transfers) {
    if (move.done || move.from != node) continue;
    for (const NodeId& r : ring->PlacementForPartition(move.partition, state.max_n()).primaries) {
      const StateMember* candidate = next.Find(r);
      const bool sends = std::any_of(next.transfers.begin(), next.transfers.end(),
                                     [&](const Move& o) {
                                       return o.partition == move.partition && o.from == r;
                                     });
      if (r != move.to && candidate != nullptr && candidate->status != MemberStatus::kDown &&
          !sends) {
        move.from = r;
        break;
      }
    }
  }
  ++next.epoch;
  return next;
}

Result<RingState> MarkUp(const RingState& state, const NodeId& node) {
  const StateMember* m = state.Find(node);
  if (m == nullptr || m->status != MemberStatus::kDown) {
    return Status::InvalidArgument("'" + node + "' is not a down member");
  }
  RingState next = state;
  FindMutable(next, node)->status = MemberStatus::kValid;
  ++next.epoch;
  return next;
}

Result<Plan> MakePlan(const RingState& state) {
  if (state.changing()) {
    return Status::Busy("the change committed at epoch " + std::to_string(state.change_epoch) +
                        " is still transferring; plan again when it completes");
  }
  if (state.staged.empty()) {
    return Status::InvalidArgument("nothing staged (ringkv-admin ring join|leave first)");
  }
  Result<Ring> current = PlacementRing(state);
  if (!current.ok()) return current.status();
  // A replacement takes its partitions as they are; joins and removals
  // claim anew from there.
  std::vector<NodeId> owners = state.owners;
  std::set<NodeId> dead;
  bool reclaim = false;
  for (const StagedChange& c : state.staged) {
    if (Replaces(c.kind)) std::replace(owners.begin(), owners.end(), c.node, c.with);
    if (c.forced()) dead.insert(c.node);
    if (!Replaces(c.kind)) reclaim = true;
  }
  std::vector<NodeId> members = NextMembers(state);
  members.insert(members.end(), owners.begin(), owners.end());
  Result<Ring> next = Ring::FromOwners(members, owners, state.n, state.epoch + 1);
  if (next.ok() && reclaim) next = next->Rebalanced(NextMembers(state), state.epoch + 1);
  if (!next.ok()) return next.status();
  Plan plan;
  plan.epoch = state.epoch;
  plan.staged = state.staged;
  plan.forced = !dead.empty();
  plan.moves = MovesBetween(*current, *next, state.max_n(), dead);
  for (uint32_t p = 0; p < next->partitions(); ++p) plan.next_owners.push_back(next->Owner(p));
  plan.after = next->Report();
  plan.id = PlanId(state, plan.moves, plan.next_owners);
  return plan;
}

Result<RingState> CommitPlan(const RingState& state, const std::string& plan_id) {
  Result<Plan> plan = MakePlan(state);
  if (!plan.ok()) return plan.status();
  if (plan->id != plan_id) {
    return Status::InvalidArgument("plan " + plan_id + " is not the current plan (" + plan->id +
                                   " at epoch " + std::to_string(state.epoch) +
                                   "): the ring changed since it was shown; plan again");
  }
  RingState next = state;
  ++next.epoch;
  // Members that exited in an earlier change are forgotten now.
  std::erase_if(next.members,
                [](const StateMember& m) { return m.status == MemberStatus::kExiting; });
  for (const StagedChange& c : state.staged) {
    StateMember* m = FindMutable(next, c.node);
    if (m != nullptr && c.kind != StagedChange::Kind::kJoin) m->status = MemberStatus::kLeaving;
  }
  next.staged.clear();
  next.next_owners = plan->next_owners;
  next.change_epoch = next.epoch;
  next.transfers = plan->moves;
  if (plan->forced) {
    // Nothing is streamed from the dead member: what it held comes to its
    // partitions' new replicas by anti-entropy after the flip, from the
    // replicas that keep the partition. But the new claim may also drop a
    // surviving replica (balance moves more than the dead member's
    // partitions); that one streams its copy as in a leave, since it may
    // hold the only live copy of a write the dead member acknowledged
    // with it (the simulator's ring-force-remove found such writes lost).
    Result<Ring> after = NextRing(next);
    if (!after.ok()) return after.status();
    for (Move& m : next.transfers) {
      m.done = after->Replicates(m.partition, next.max_n(), m.from);
    }
  }
  if (std::all_of(next.transfers.begin(), next.transfers.end(),
                  [](const Move& m) { return m.done; })) {
    return Flip(next);
  }
  return next;
}

Result<RingState> MarkTransferDone(const RingState& state, uint32_t partition,
                                   const NodeId& from, const NodeId& to) {
  RingState next = state;
  bool found = false;
  for (Move& m : next.transfers) {
    if (m.partition == partition && m.from == from && m.to == to && !m.done) {
      m.done = true;
      found = true;
    }
  }
  if (!found) {
    return Status::NotFound("no transfer of partition " + std::to_string(partition) + " from " +
                            from + " to " + to + " in flight");
  }
  ++next.epoch;
  const bool all = std::all_of(next.transfers.begin(), next.transfers.end(),
                               [](const Move& m) { return m.done; });
  return all ? Flip(next) : next;
}

RingState Flip(const RingState& state) {
  RingState next = state;
  if (!next.next_owners.empty()) next.owners = std::move(next.next_owners);
  next.next_owners.clear();
  next.transfers.clear();
  for (StateMember& m : next.members) {
    if (m.status == MemberStatus::kLeaving) m.status = MemberStatus::kExiting;
    if (m.status == MemberStatus::kJoining &&
        std::find(next.owners.begin(), next.owners.end(), m.id) != next.owners.end()) {
      m.status = MemberStatus::kValid;
    }
  }
  // A joiner that owns nothing (more members than partitions) is valid too
  // once its join was committed; one still only staged stays joining.
  for (StateMember& m : next.members) {
    const bool staged = std::any_of(next.staged.begin(), next.staged.end(),
                                    [&m](const StagedChange& c) { return c.node == m.id; });
    if (m.status == MemberStatus::kJoining && !staged && next.change_epoch != 0) {
      m.status = MemberStatus::kValid;
    }
  }
  ++next.epoch;
  return next;
}

}  // namespace ringkv
