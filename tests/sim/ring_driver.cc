#include "tests/sim/ring_driver.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "proto/messages.h"
#include "replication/ring_state_codec.h"

namespace ringkv::sim {
namespace {

// Retry pace: a refusal or a lost reply, then the next try.
constexpr int64_t kRetryUs = 400'000;
// Polls of the ring while a change transfers, and of a departing node.
constexpr int64_t kPollUs = 500'000;
// A request's deadline at the member, and how long the driver waits for
// its reply before trying another member.
constexpr uint32_t kRequestTimeoutMs = 2000;
constexpr int64_t kGiveUpUs = 3'000'000;

const char* PhaseName(int phase) {
  static constexpr const char* kNames[] = {"stage", "plan", "commit", "wait for the flip",
                                           "stop the departed"};
  return kNames[phase];
}

bool HasStatus(const RingState& s, const NodeId& id, std::initializer_list<MemberStatus> any) {
  const StateMember* m = s.Find(id);
  return m != nullptr && std::find(any.begin(), any.end(), m->status) != any.end();
}

}  // namespace

RingDriver::RingDriver(SimCluster* cluster, std::vector<RingStep> steps, uint64_t seed,
                       int64_t start_us)
    : cluster_(cluster), steps_(std::move(steps)), random_(seed), start_us_(start_us) {}

void RingDriver::Start() {
  cluster_->world().queue().At(start_us_, [this] { Act(); });
}

void RingDriver::Note(const std::string& what) {
  char at[32];
  std::snprintf(at, sizeof(at), "%.3fs ", cluster_->world().now() / 1e6);
  if (log_.size() < 400) log_.push_back(at + ("step " + std::to_string(step_ + 1) + ": " + what));
}

void RingDriver::Next(int64_t delay_us) {
  cluster_->world().queue().After(delay_us, [this] { Act(); });
}

int RingDriver::PickMember() {
  std::vector<int> running;
  for (int i = 0; i < cluster_->size(); ++i) {
    if (cluster_->present(i) && cluster_->up(i)) running.push_back(i);
  }
  if (running.empty()) return -1;
  return running[random_.Uniform(running.size())];
}

void RingDriver::Ask(RingAdminRequest request,
                     std::function<void(const Status&, const RingAdminReply*)> reply) {
  const int node = PickMember();
  if (node < 0) return reply(Status::Unavailable("no member is running"), nullptr);
  const uint64_t ask = ++asks_;
  Message m;
  m.request_id = next_request_id_++;
  m.timeout_ms = kRequestTimeoutMs;
  m.body = std::move(request);
  auto answered = [this, ask, reply, via = cluster_->id(node)](Message answer) {
    if (ask != asks_) return;
    ++asks_;
    if (auto* r = std::get_if<RingAdminReply>(&answer.body)) {
      Observe(*r);
      return reply(r->status, r);
    }
    if (auto* e = std::get_if<ErrorReply>(&answer.body)) return reply(e->status, nullptr);
    reply(Status::Corruption(via + " answered with " + MessageName(answer.body)), nullptr);
  };
  cluster_->ClientCall(node, std::move(m), std::move(answered));
  cluster_->world().queue().After(kGiveUpUs, [this, ask, reply, via = cluster_->id(node)] {
    if (ask != asks_) return;
    ++asks_;
    reply(Status::Timeout("no answer from " + via), nullptr);
  });
}

void RingDriver::Observe(const RingAdminReply& reply) {
  Result<RingState> state = DecodeRingState(reply.state);
  if (state.ok() && (!seen_ || state->epoch > seen_->epoch)) seen_ = std::move(state).value();
}

size_t RingDriver::PendingCatchUps() const {
  size_t pending = 0;
  for (int i = 0; i < cluster_->size(); ++i) {
    if (cluster_->present(i) && cluster_->up(i)) {
      pending += cluster_->node(i)->ring_keeper().pending_catch_ups();
    }
  }
  return pending;
}

std::optional<RingState> RingDriver::LatestState() const {
  std::optional<RingState> latest;
  for (int i = 0; i < cluster_->size(); ++i) {
    if (!cluster_->present(i) || !cluster_->up(i)) continue;
    const RingState& s = cluster_->node(i)->ring_keeper().state();
    if (!latest || s.epoch > latest->epoch) latest = s;
  }
  return latest;
}

StagedChange::Kind RingDriver::LeaveKind(int leaver) const {
  const bool replaced = replaced_by_.count(leaver) != 0;
  if (forced_) return replaced ? StagedChange::Kind::kForceReplace : StagedChange::Kind::kForceRemove;
  return replaced ? StagedChange::Kind::kReplace : StagedChange::Kind::kLeave;
}

bool RingDriver::Staged(const RingState& s) const {
  for (int i : leavers_) {
    const NodeId& id = cluster_->id(i);
    const StagedChange::Kind kind = LeaveKind(i);
    const bool staged = std::any_of(s.staged.begin(), s.staged.end(), [&](const StagedChange& c) {
      return c.kind == kind && c.node == id;
    });
    if (!staged && !HasStatus(s, id, {MemberStatus::kLeaving, MemberStatus::kExiting})) {
      return false;
    }
  }
  for (int i : joiners_) {
    if (!cluster_->present(i)) return false;
  }
  return true;
}

bool RingDriver::Completed(const RingState& s) const {
  if (s.changing() || !s.staged.empty()) return false;
  for (int i : joiners_) {
    if (!HasStatus(s, cluster_->id(i), {MemberStatus::kValid})) return false;
  }
  for (int i : leavers_) {
    if (s.Find(cluster_->id(i)) != nullptr &&
        !HasStatus(s, cluster_->id(i), {MemberStatus::kExiting})) {
      return false;
    }
  }
  return true;
}

bool RingDriver::Committed(const RingState& s) const {
  for (const StagedChange& c : s.staged) {
    for (int i : joiners_) {
      if (c.node == cluster_->id(i)) return false;
    }
    for (int i : leavers_) {
      if (c.node == cluster_->id(i)) return false;
    }
  }
  return s.changing() || Completed(s);
}

void RingDriver::Stage() {
  // A dead member is marked down first, as an operator would: it may be
  // the claimant, which every other request waits for until then.
  for (int l : leavers_) {
    const NodeId& id = cluster_->id(l);
    if (!forced_ || (seen_ && (HasStatus(*seen_, id, {MemberStatus::kDown}) || Staged(*seen_) ||
                               Committed(*seen_)))) {
      continue;
    }
    return Ask(RingAdminRequest{"mark-down", id, {}, {}, 0, {}, {}, {}, {}},
               [this, id](const Status& st, const RingAdminReply*) {
                 Note("mark-down " + id + ": " + st.ToString());
                 Next(st.ok() ? 0 : kRetryUs);
               });
  }
  // Joins first, each until a member answers it: the answer is the state
  // the new node starts from (a join retried after a lost answer is
  // answered again).
  for (int j : joiners_) {
    if (cluster_->present(j)) continue;
    RingAdminRequest join{"join", cluster_->id(j), cluster_->address(j), {}, 0, {}};
    return Ask(std::move(join), [this, j](const Status& st, const RingAdminReply* r) {
      if (!st.ok() || r == nullptr) {
        Note("join " + cluster_->id(j) + ": " + st.ToString());
        return Next(kRetryUs);
      }
      Result<RingState> state = DecodeRingState(r->state);
      if (!state.ok()) {
        Note("join " + cluster_->id(j) + " answered an undecodable state: " +
             state.status().ToString());
        return Next(kRetryUs);
      }
      Note("join " + cluster_->id(j) + " staged at epoch " + std::to_string(state->epoch));
      cluster_->StartJoined(j, std::move(state).value());
      Next(0);
    });
  }
  for (int l : leavers_) {
    if (seen_ && Staged(*seen_)) break;
    const NodeId& id = cluster_->id(l);
    if (seen_ && (std::any_of(seen_->staged.begin(), seen_->staged.end(),
                              [&](const StagedChange& c) { return c.node == id; }) ||
                  HasStatus(*seen_, id, {MemberStatus::kLeaving, MemberStatus::kExiting}))) {
      continue;
    }
    RingAdminRequest request{StagedKindName(LeaveKind(l)), id, {}, {}, 0, {}, {}, {}, {}};
    auto by = replaced_by_.find(l);
    if (by != replaced_by_.end()) request.replacement = cluster_->id(by->second);
    const std::string what = request.op + " " + id;
    return Ask(std::move(request), [this, what](const Status& st, const RingAdminReply*) {
      Note(what + ": " + st.ToString());
      Next(st.ok() ? 0 : kRetryUs);
    });
  }
  if (seen_ && Staged(*seen_)) {
    phase_ = Phase::kPlan;
    return Next(0);
  }
  // A staged leave is confirmed by a state that shows it.
  Ask(RingAdminRequest{"ring", {}, {}, {}, 0, {}, {}, {}},
      [this](const Status&, const RingAdminReply*) { Next(kRetryUs); });
}

void RingDriver::Act() {
  if (done()) return;
  const RingStep& step = steps_[step_];
  switch (phase_) {
    case Phase::kStage: {
      if (!seen_) {
        return Ask(RingAdminRequest{"ring", {}, {}, {}, 0, {}, {}, {}},
                   [this](const Status&, const RingAdminReply*) { Next(seen_ ? 0 : kRetryUs); });
      }
      if (joiners_.empty() && leavers_.empty()) {
        for (int i = 0; i < cluster_->size() && static_cast<int>(joiners_.size()) < step.joins;
             ++i) {
          const bool left = std::find(departed_.begin(), departed_.end(), i) != departed_.end();
          if (!cluster_->present(i) && !left) joiners_.push_back(i);
        }
        std::vector<int> valid;
        for (int i = 0; i < cluster_->size(); ++i) {
          if (cluster_->present(i) && HasStatus(*seen_, cluster_->id(i), {MemberStatus::kValid})) {
            valid.push_back(i);
          }
        }
        forced_ = step.force_removes + step.force_replaces > 0;
        const int replaces = forced_ ? step.force_replaces : step.replaces;
        const int leaves = forced_ ? step.force_removes : step.leaves;
        for (int k = 0; k < leaves + replaces && !valid.empty(); ++k) {
          const size_t pick = random_.Uniform(valid.size());
          leavers_.push_back(valid[pick]);
          valid.erase(valid.begin() + static_cast<ptrdiff_t>(pick));
        }
        // The last `replaces` leavers are replaced, each by one more
        // absent node.
        for (int k = 0; k < replaces && k < static_cast<int>(leavers_.size()); ++k) {
          for (int i = 0; i < cluster_->size(); ++i) {
            const bool left = std::find(departed_.begin(), departed_.end(), i) != departed_.end();
            const bool taken = std::find(joiners_.begin(), joiners_.end(), i) != joiners_.end();
            if (!cluster_->present(i) && !left && !taken) {
              joiners_.push_back(i);
              replaced_by_[leavers_[leavers_.size() - 1 - static_cast<size_t>(k)]] = i;
              break;
            }
          }
        }
        std::string what;
        for (int j : joiners_) what += " join " + cluster_->id(j);
        for (int l : leavers_) {
          auto by = replaced_by_.find(l);
          what += std::string(" ") + StagedKindName(LeaveKind(l)) + " " + cluster_->id(l);
          if (by != replaced_by_.end()) what += " by " + cluster_->id(by->second);
          if (forced_) {
            // Dead for good: the process and its disk.
            cluster_->Retire(l);
            cluster_->Wipe(l);
            departed_.push_back(l);
            disk_losses_.push_back(cluster_->world().now());
          }
        }
        Note("begins:" + what);
      }
      return Stage();
    }
    case Phase::kPlan:
      if (seen_ && Committed(*seen_)) {
        phase_ = Phase::kWait;
        return Next(0);
      }
      return Ask(RingAdminRequest{"plan", {}, {}, {}, 0, {}, {}, {}},
                 [this](const Status& st, const RingAdminReply* r) {
                   if (st.ok() && r != nullptr) {
                     Result<PlanView> plan = DecodePlan(r->plan);
                     if (plan.ok()) {
                       plan_id_ = plan->id;
                       Note("plan " + plan_id_ + " at epoch " + std::to_string(plan->epoch) +
                            ": " + std::to_string(plan->moves.size()) + " moves");
                       phase_ = Phase::kCommit;
                       return Next(0);
                     }
                     Note("plan undecodable: " + plan.status().ToString());
                   } else {
                     Note("plan: " + st.ToString());
                   }
                   Next(kRetryUs);
                 });
    case Phase::kCommit:
      return Ask(RingAdminRequest{"commit", {}, {}, plan_id_, 0, {}, {}, {}},
                 [this](const Status& st, const RingAdminReply*) {
                   Note("commit " + plan_id_ + ": " + st.ToString());
                   // Refused or unanswered: plan again (a commit that did
                   // land shows in the state the plan request returns).
                   phase_ = st.ok() ? Phase::kWait : Phase::kPlan;
                   Next(st.ok() ? 0 : kRetryUs);
                 });
    case Phase::kWait:
      if (seen_ && Completed(*seen_)) {
        Note("completed at epoch " + std::to_string(seen_->epoch));
        phase_ = Phase::kDepart;
        return Next(0);
      }
      return Ask(RingAdminRequest{"ring", {}, {}, {}, 0, {}, {}, {}},
                 [this](const Status&, const RingAdminReply*) { Next(kPollUs); });
    case Phase::kDepart: {
      bool all = true;
      for (int l : leavers_) {
        if (!cluster_->present(l)) continue;
        // Stopped once its own state says it is exiting, its cleanup
        // deleted everything it held and it delivered every hint it took
        // as a fallback before the commit (as `ringkv-cluster remove`).
        if (cluster_->up(l) && !cluster_->paused(l)) {
          const RingState& own = cluster_->node(l)->ring_keeper().state();
          auto held = cluster_->StoredObjects(l);
          uint64_t hints = 0;
          for (const auto& [target, count] : cluster_->service(l)->HintCounts()) hints += count;
          if (HasStatus(own, cluster_->id(l), {MemberStatus::kExiting}) && held.ok() &&
              held->empty() && hints == 0) {
            Note("stop " + cluster_->id(l) + ": exiting, holds nothing, no hints");
            cluster_->Retire(l);
            departed_.push_back(l);
            continue;
          }
        }
        all = false;
      }
      if (!all) return Next(kPollUs);
      Note("done");
      ++step_;
      phase_ = Phase::kStage;
      joiners_.clear();
      leavers_.clear();
      replaced_by_.clear();
      forced_ = false;
      plan_id_.clear();
      return Next(kPollUs);
    }
  }
}

CheckResult RingDriver::Check() const {
  CheckResult r;
  r.name = "ring-changes";
  r.checked = steps_.size();
  if (!done()) {
    std::string last = log_.empty() ? "nothing done" : log_.back();
    r.Fail("step " + std::to_string(step_ + 1) + " of " + std::to_string(steps_.size()) +
           " did not finish (phase: " + PhaseName(static_cast<int>(phase_)) + "); last: " + last);
  }
  return r;
}

}  // namespace ringkv::sim
