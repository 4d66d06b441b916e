#include "antientropy/exchange.h"

#include <algorithm>
#include <utility>

#include "common/hash.h"
#include "proto/codec.h"
#include "proto/frame.h"

namespace ringkv::aae {

Exchange::Exchange(ExchangeEnv env, ExchangeLimits limits, uint32_t partition, NodeId peer,
                   Done done)
    : env_(env), limits_(limits), partition_(partition), peer_(std::move(peer)),
      done_(std::move(done)) {}

Exchange::~Exchange() {
  *alive_ = false;
  for (PeerRpc::CallId id : calls_) env_.rpc->Cancel(id);
  if (timer_ != 0) env_.scheduler->Cancel(timer_);
}

size_t Exchange::FrameBytes(const NodeId& self, const MessageBody& body) {
  Message m;
  m.request_id = UINT64_MAX;
  m.from = self;
  m.timeout_ms = 1;
  m.body = body;
  m.sender_generation = UINT64_MAX;
  m.sent_mono_us = INT64_MAX;
  return EncodeMessage(m).size() + kFrameHeaderSize;
}

const HashTree* Exchange::Tree() { return env_.trees->Trusted(partition_); }

void Exchange::Start() { RootStep(1); }

void Exchange::Call(Stage stage, MessageBody body,
                    std::function<void(Result<MessageBody>)> on_reply) {
  const size_t sent = FrameBytes(env_.rpc->self(), body);
  uint64_t* counter = stage == Stage::kTree ? &result_.bytes_tree
                      : stage == Stage::kKeys ? &result_.bytes_keys
                                              : &result_.bytes_repair;
  *counter += sent;
  result_.bytes += sent;
  auto id = std::make_shared<PeerRpc::CallId>(0);
  *id = env_.rpc->Call(
      peer_, std::move(body), env_.clock->MonoMicros() + limits_.step_timeout_us,
      [this, alive = alive_, id, counter, on_reply = std::move(on_reply)](Result<MessageBody> r) {
        if (!*alive) return;
        calls_.erase(*id);
        if (r.ok()) {
          const size_t got = FrameBytes(peer_, *r);
          *counter += got;
          result_.bytes += got;
        }
        on_reply(std::move(r));
      });
  calls_.insert(*id);
}

void Exchange::After(int64_t delay_us, std::function<void()> fn) {
  timer_ = env_.scheduler->RunAfter(delay_us, [this, alive = alive_, fn = std::move(fn)] {
    if (!*alive) return;
    timer_ = 0;
    fn();
  });
}

void Exchange::RootStep(int round) {
  const HashTree* tree = Tree();
  if (tree == nullptr) return Finish(Status::Unavailable("this node's tree is being built"));
  Call(Stage::kTree, AaeRootRequest{partition_, kShape, kHashVersion, tree->top()},
       [this, round](Result<MessageBody> r) {
         if (!r.ok()) return Finish(r.status());
         if (std::holds_alternative<AaeRootEqual>(*r)) return Finish(Status::OK());
         auto* reply = std::get_if<AaeRootReply>(&*r);
         if (reply == nullptr) return Finish(Status::Corruption("unexpected reply to aaeRoot"));
         if (!reply->status.ok()) return Finish(reply->status);
         const HashTree* tree = Tree();
         if (tree == nullptr) return Finish(Status::Unavailable("this node's tree is being built"));
         if (reply->branches.size() != kBranches) {
           return Finish(Status::Corruption("aaeRootReply without 256 branches"));
         }
         std::set<uint32_t> differ;
         for (uint32_t b = 0; b < kBranches; ++b) {
           if (tree->branches()[b] != reply->branches[b] && (round == 1 || branches_.contains(b))) {
             differ.insert(b);
           }
         }
         branches_ = std::move(differ);
         if (branches_.empty()) return Finish(Status::OK());
         if (round == 1) {
           After(limits_.confirm_pause_us, [this] { RootStep(2); });
         } else {
           BranchStep(1);
         }
       });
}

void Exchange::BranchStep(int round) {
  std::vector<uint32_t> branches(branches_.begin(), branches_.end());
  Call(Stage::kTree, AaeBranchRequest{partition_, kShape, kHashVersion, branches},
       [this, round, branches](Result<MessageBody> r) {
         if (!r.ok()) return Finish(r.status());
         auto* reply = std::get_if<AaeBranchReply>(&*r);
         if (reply == nullptr) return Finish(Status::Corruption("unexpected reply to aaeBranch"));
         if (!reply->status.ok()) return Finish(reply->status);
         const HashTree* tree = Tree();
         if (tree == nullptr) return Finish(Status::Unavailable("this node's tree is being built"));
         if (reply->segments.size() != branches.size() * kSegmentsPerBranch) {
           return Finish(Status::Corruption("aaeBranchReply of the wrong size"));
         }
         std::set<uint32_t> differ;
         for (size_t i = 0; i < branches.size(); ++i) {
           for (uint32_t s = 0; s < kSegmentsPerBranch; ++s) {
             const uint32_t segment = branches[i] * kSegmentsPerBranch + s;
             if (tree->segment(segment) != reply->segments[i * kSegmentsPerBranch + s] &&
                 (round == 1 || segments_.contains(segment))) {
               differ.insert(segment);
             }
           }
         }
         segments_ = std::move(differ);
         if (segments_.empty()) return Finish(Status::OK());
         if (round == 1) {
           After(limits_.confirm_pause_us, [this] { BranchStep(2); });
         } else {
           result_.segments_differing = segments_.size();
           KeysStep();
         }
       });
}

void Exchange::KeysStep() {
  // At most max_segments per request; the rest follow once these are
  // repaired, in the same exchange.
  std::vector<uint32_t> segments;
  while (!segments_.empty() && segments.size() < limits_.max_segments) {
    segments.push_back(*segments_.begin());
    segments_.erase(segments_.begin());
  }
  Call(Stage::kKeys, AaeKeysRequest{partition_, kShape, kHashVersion, segments},
       [this, segments](Result<MessageBody> r) {
         if (!r.ok()) return Finish(r.status());
         auto* reply = std::get_if<AaeKeysReply>(&*r);
         if (reply == nullptr) return Finish(Status::Corruption("unexpected reply to aaeKeys"));
         if (!reply->status.ok()) return Finish(reply->status);
         std::vector<AaeKeyEntry> local;
         if (Status st = env_.trees->ReadSegments(partition_, segments, &local); !st.ok()) {
           return Finish(st);
         }
         using Name = std::pair<std::string, std::string>;
         std::map<Name, uint64_t> ours;
         for (AaeKeyEntry& e : local) ours[{std::move(e.bucket), std::move(e.key)}] = e.leaf;
         const std::set<uint32_t> asked(segments.begin(), segments.end());
         const Ring& ring = env_.membership->ring();
         std::set<Name> theirs;
         for (AaeKeyEntry& e : reply->keys) {
           // A peer names only keys of the segments asked for, of this
           // partition; anything else is not repaired on its word.
           if (!asked.contains(e.segment) || KeySegment(e.bucket, e.key) != e.segment ||
               ring.PartitionOf(KeyHash(e.bucket, e.key)) != partition_) {
             continue;
           }
           Name name{std::move(e.bucket), std::move(e.key)};
           auto it = ours.find(name);
           const bool differs = it == ours.end() || it->second != e.leaf;
           theirs.insert(name);
           if (differs) repairs_.push_back({std::move(name), true});
         }
         for (auto& [name, leaf] : ours) {
           if (!theirs.contains(name)) repairs_.push_back({name, false});
         }
         result_.keys_differing += repairs_.size();
         RepairNext();
       });
}

void Exchange::RepairNext() {
  if (next_repair_ >= repairs_.size()) {
    if (segments_.empty()) return Finish(Status::OK());
    repairs_.clear();
    next_repair_ = 0;
    return KeysStep();
  }
  const int64_t now = env_.clock->MonoMicros();
  const int64_t wait = std::max(env_.objects->WaitUs(now), env_.bytes->WaitUs(now));
  if (wait > 0) return After(wait, [this] { RepairNext(); });
  env_.objects->Take(now, 1);
  const auto& [name, peer_has] = repairs_[next_repair_++];
  Repair(name.first, name.second, peer_has);
}

void Exchange::Repair(const std::string& bucket, const std::string& key, bool peer_has) {
  if (!peer_has) {
    Result<std::optional<Object>> local = env_.replica->Read(partition_, bucket, key);
    if (!local.ok()) return KeyDone(false, true);
    if (!local->has_value()) return KeyDone(false, false);  // gone since its segment was read
    return Push(bucket, key, std::move(**local), /*changed=*/false);
  }
  Call(Stage::kRepair, ReplicaGetRequest{bucket, key},
       [this, bucket, key](Result<MessageBody> r) {
         auto* reply = r.ok() ? std::get_if<ReplicaGetReply>(&*r) : nullptr;
         if (reply == nullptr || !reply->status.ok()) return KeyDone(false, true);
         Result<std::optional<Object>> local = env_.replica->Read(partition_, bucket, key);
         if (!local.ok()) return KeyDone(false, true);
         if (!reply->found) {
           if (!local->has_value()) return KeyDone(false, false);
           return Push(bucket, key, std::move(**local), false);
         }
         Result<Object> merged = env_.replica->Merge(partition_, bucket, key, reply->object);
         if (!merged.ok()) return KeyDone(false, true);
         const bool changed = !local->has_value() || **local != *merged;
         if (*merged == reply->object) return KeyDone(changed, false);
         Push(bucket, key, std::move(merged).value(), changed);
       });
}

void Exchange::Push(const std::string& bucket, const std::string& key, Object object,
                    bool changed) {
  ReplicaPutRequest put;
  put.bucket = bucket;
  put.key = key;
  put.object = std::move(object);
  Call(Stage::kRepair, std::move(put), [this, changed](Result<MessageBody> r) {
    auto* reply = r.ok() ? std::get_if<ReplicaPutReply>(&*r) : nullptr;
    const bool ok = reply != nullptr && reply->status.ok();
    KeyDone(changed || ok, !ok);
  });
}

void Exchange::KeyDone(bool repaired, bool failed) {
  if (repaired) ++result_.keys_repaired;
  if (failed) ++result_.repair_failures;
  env_.bytes->Take(env_.clock->MonoMicros(), static_cast<double>(result_.bytes_repair) -
                                                 static_cast<double>(charged_bytes_));
  charged_bytes_ = result_.bytes_repair;
  RepairNext();
}

void Exchange::Finish(Status status) {
  if (finished_) return;
  finished_ = true;
  result_.status = std::move(status);
  // The callback may destroy this exchange.
  Done done = std::move(done_);
  ExchangeResult result = result_;
  done(std::move(result));
}

}  // namespace ringkv::aae
