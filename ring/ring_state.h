// RingState: the cluster's membership as one versioned value
// (docs/ring-changes.md): every member with its status and address, the
// partition owners, the change in flight (next owners and the transfers
// that get there), the changes an operator staged, and the bucket
// properties. Nodes persist it and gossip it; a higher epoch always wins.
//
// Only the claimant (the lowest id among valid members) makes a new epoch,
// through the functions below; each returns the next state and never
// touches the one given. Pure code, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/transport.h"
#include "proto/messages.h"
#include "ring/ring.h"

namespace ringkv {

enum class MemberStatus : uint8_t {
  kJoining = 0,  // known, gossiped to, owns nothing yet
  kValid = 1,    // owns partitions (or would, with Q >= M)
  kLeaving = 2,  // still owns; the committed change hands its partitions on
  kExiting = 3,  // handed everything on; deletes what it held, then stops
  // Marked down by an operator: still owns its partitions (until a
  // force-remove or force-replace), but is neither claimant nor counted
  // toward the majority, and sends no transfers.
  kDown = 4,
};
// Whether a member of this status owns partitions: valid, leaving, and
// down until a forced change gives them on.
bool OwnsPartitions(MemberStatus status);
const char* MemberStatusName(MemberStatus status);

struct StateMember {
  NodeId id;
  std::string address;  // "host:port"
  MemberStatus status = MemberStatus::kValid;
  bool operator==(const StateMember&) const = default;
};

// One partition's keys streamed from a current replica to a next one.
struct Move {
  uint32_t partition = 0;
  NodeId from;
  NodeId to;
  bool done = false;  // the receiver has the snapshot and the catch-up
  bool operator==(const Move&) const = default;
};

struct StagedChange {
  // Forced changes take a dead node out without streaming from it; they
  // are committed alone, never with the others.
  enum class Kind : uint8_t {
    kJoin = 0,
    kLeave = 1,
    kReplace = 2,       // `with` takes exactly `node`'s partitions, streamed from it
    kForceRemove = 3,   // `node` is dead: its partitions are claimed anew
    kForceReplace = 4,  // `node` is dead: `with` takes exactly its partitions
  };
  Kind kind = Kind::kJoin;
  NodeId node;
  NodeId with;  // replace and force-replace: the joining member taking over
  bool forced() const { return kind == Kind::kForceRemove || kind == Kind::kForceReplace; }
  bool operator==(const StagedChange&) const = default;
};
const char* StagedKindName(StagedChange::Kind kind);

// The transfer limits an operator set at runtime (`ringkv-admin transfers
// --set`), one value for the whole cluster, spread with the ring state;
// each unset one is every node's own flag.
struct TransferLimits {
  uint32_t per_node = 0;      // streams a node sends at once; 0: the node's flag
  double mib_per_sec = -1;    // a node's outgoing pace; 0 unpaced; < 0: the node's flag
  bool operator==(const TransferLimits&) const = default;
};
inline constexpr uint32_t kMaxTransfersPerNode = 64;
inline constexpr double kMaxTransferMibPerSec = 100000;

// Bounds a state must meet to be adopted (a gossiped one is a peer's word).
inline constexpr size_t kMaxStateMembers = 1024;
inline constexpr size_t kMaxStateBytes = size_t{8} << 20;
inline constexpr size_t kMaxStateBuckets = 4096;
// A bucket's sibling cap at most (kMaxSiblingCap, replication/bucket.h).
inline constexpr uint32_t kMaxStateSiblingCap = 10000;

struct RingState {
  uint64_t epoch = 1;
  uint32_t partitions = 0;
  uint32_t n = 3;
  std::vector<StateMember> members;  // sorted by id, unique
  std::vector<NodeId> owners;        // owners[p]: a valid or leaving member
  // The committed change in flight: empty when none. Same size as owners.
  std::vector<NodeId> next_owners;
  uint64_t change_epoch = 0;  // the epoch that committed it
  std::vector<Move> transfers;
  std::vector<StagedChange> staged;
  // buckets[0] is the defaults (empty name); then the named buckets.
  std::vector<BucketInfo> buckets;
  TransferLimits limits;
  bool operator==(const RingState&) const = default;

  const StateMember* Find(const NodeId& id) const;
  bool changing() const { return !next_owners.empty(); }
  // The replica count transfers are computed for: the largest of n and
  // every bucket's.
  uint32_t max_n() const;
};

// Epoch 1 of a cluster: every member valid, owners claimed from scratch.
Result<RingState> BootstrapState(std::vector<StateMember> members, uint32_t partitions,
                                 uint32_t n, std::vector<BucketInfo> buckets);

// The structure a state must have: sizes, members sorted and unique with
// bounded names, owners and transfers naming members. InvalidArgument
// saying what is wrong.
Status ValidateState(const RingState& state);

// The placement the coordinators use: owners over the valid, leaving and
// down members, with the transfers in flight as handovers and the leaving
// members as departing (no fallbacks).
Result<Ring> PlacementRing(const RingState& state);
// The ring the committed change leads to (no handovers); the placement
// ring when nothing is in flight.
Result<Ring> NextRing(const RingState& state);

// The lowest id among valid members; nullopt when there is none.
std::optional<NodeId> Claimant(const RingState& state);

// Staging: each returns the next epoch.
Result<RingState> StageJoin(const RingState& state, const NodeId& node,
                            const std::string& address);
Result<RingState> StageLeave(const RingState& state, const NodeId& node);
Result<RingState> ClearStaged(const RingState& state);
// `max=N,mib-per-s=X` (either, or both; `default` for the node's flag) on
// top of `current`: InvalidArgument naming what is wrong.
Result<TransferLimits> ParseTransferLimits(std::string_view text, TransferLimits current);
// The next epoch with `limits`.
Result<RingState> SetTransferLimits(const RingState& state, const TransferLimits& limits);
// The next epoch with `bucket`'s properties in place of the ones its name
// had (a new name is added; the empty name is the defaults). The claimant
// checks the values against its members and plugins before
// (RingKeeper); this checks only what ValidateState does.
Result<RingState> SetBucket(const RingState& state, BucketInfo bucket);
// `with` (a joining member) takes exactly `node`'s partitions: one move per
// partition `node` replicates, from `node` to `with`; `node` leaves.
Result<RingState> StageReplace(const RingState& state, const NodeId& node, const NodeId& with);
// `node` (valid or down) is dead: its partitions go to the others without
// a transfer from it (the commit completes at once; anti-entropy fills the
// new replicas from the surviving ones).
Result<RingState> StageForceRemove(const RingState& state, const NodeId& node);
// As StageForceRemove, but `with` (a joining member) takes exactly
// `node`'s partitions.
Result<RingState> StageForceReplace(const RingState& state, const NodeId& node,
                                    const NodeId& with);

// An operator's word that valid member `node` is dead: status down, so the
// next lowest valid id is the claimant and the majority is counted without
// it; each transfer it was to send is taken over by another current
// replica of that partition that sends nothing else of it (when there is
// one), so the change in flight can complete without it.
Result<RingState> MarkDown(const RingState& state, const NodeId& node);
// A down member seen up again: valid.
Result<RingState> MarkUp(const RingState& state, const NodeId& node);

struct Plan {
  std::string id;  // changes whenever the state it was made from changes
  uint64_t epoch = 0;
  std::vector<StagedChange> staged;
  // Forced plans: the replicas anti-entropy fills after the commit (from
  // a surviving replica of the partition), not transfers.
  std::vector<Move> moves;
  bool forced = false;
  std::vector<NodeId> next_owners;
  ClaimReport after;
};

// What committing the staged changes would do. Busy while a
// change is in flight or when nothing is staged.
Result<Plan> MakePlan(const RingState& state);
// Commits `plan_id`: InvalidArgument when the plan made now has another id (the
// state changed since it was shown).
Result<RingState> CommitPlan(const RingState& state, const std::string& plan_id);
// Marks one transfer done; when it was the last, the change completes in
// the same epoch (Flip). NotFound for a transfer not in flight.
Result<RingState> MarkTransferDone(const RingState& state, uint32_t partition,
                                   const NodeId& from, const NodeId& to);
// Completes the change: next owners become the owners, joining members
// valid, leaving ones exiting. A forced commit completes at once.
RingState Flip(const RingState& state);

}  // namespace ringkv
