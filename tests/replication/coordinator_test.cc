// Coordinator on a hand-driven world: the test plays the other replicas by
// answering the ReplicaGet/ReplicaPut/Put requests the transport recorded,
// and moves the clock itself, so every quorum, deadline, fallback and hint
// decision is checked at the exact moment it must happen.
#include "replication/coordinator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "common/hash.h"
#include "common/metrics.h"
#include "common/random.h"
#include "replication/hint_store.h"
#include "replication/object_store.h"
#include "replication/replica.h"
#include "ring/membership.h"
#include "storage/memory_storage.h"
#include "tests/testing/fake_env.h"

namespace ringkv {
namespace {

using testing::ManualClock;
using testing::ManualLiveness;
using testing::ManualScheduler;
using testing::RecordingTransport;
using Sent = RecordingTransport::Sent;

constexpr int64_t kMs = 1000;
constexpr int64_t kTimeoutUs = 1'000 * kMs;
constexpr uint64_t kIncarnation = 7;

Ring MakeRing() {
  Result<Ring> ring = Ring::Create({"n1", "n2", "n3", "n4", "n5"}, 64, 3);
  EXPECT_TRUE(ring.ok());
  return std::move(ring).value();
}

ServiceOptions MakeOptions() {
  ServiceOptions options;
  options.self = "n1";
  options.incarnation = kIncarnation;
  options.failure_detection = false;
  options.buckets = BucketTable(BucketProps{});  // n=3, r=2, w=2
  return options;
}

std::vector<std::string> Values(const Object& o) {
  std::vector<std::string> out;
  for (const Sibling* s : o.Values()) out.push_back(s->value);
  std::sort(out.begin(), out.end());
  return out;
}

// Where a key of bucket "b" lives, as seen from n1.
struct Layout {
  std::string key;
  uint32_t partition = 0;
  std::vector<NodeId> others;     // the primaries other than n1, in preference order
  std::vector<NodeId> fallbacks;  // in preference order, n1 left out
};

class CoordinatorTest : public ::testing::Test {
 protected:
  CoordinatorTest() { EXPECT_TRUE(hints_.Load().ok()); }

  void TearDown() override {
    EXPECT_TRUE(transport_.undecodable().empty()) << "sent bytes the codec rejects";
  }

  // The first key whose first primary (its owner, every peer being up) is
  // n1, or whose primaries leave n1 out.
  Layout KeyWhereSelfIsPrimary(bool primary) const {
    return KeyWhereSelfIs(primary ? 0 : -1);
  }
  // The first key whose primaries hold n1 at `rank` (-1: not at all).
  Layout KeyWhereSelfIs(int rank) const {
    for (int i = 0;; ++i) {
      std::string key = "k" + std::to_string(i);
      uint64_t hash = KeyHash("b", key);
      Placement p = membership_.ring().PlacementFor(hash, 3);
      auto self = std::find(p.primaries.begin(), p.primaries.end(), "n1");
      if ((self == p.primaries.end() ? -1 : self - p.primaries.begin()) != rank) continue;
      Layout layout{key, membership_.ring().PartitionOf(hash), {}, {}};
      for (const NodeId& n : p.primaries) {
        if (n != "n1") layout.others.push_back(n);
      }
      for (const NodeId& n : p.fallbacks) {
        if (n != "n1") layout.fallbacks.push_back(n);
      }
      return layout;
    }
  }

  void Get(const std::string& key, uint32_t r, uint32_t pr = kQuorumDefault) {
    GetRequest request{"b", key, r, pr};
    coordinator_.Get(request, deadline_,
                     [this](GetReply reply) { gets_.push_back(std::move(reply)); });
  }

  void Put(PutRequest request, int64_t deadline_us) {
    coordinator_.Put(std::move(request), deadline_us,
                     [this](PutReply reply) { puts_.push_back(std::move(reply)); });
  }
  void Put(const std::string& key, uint32_t w, uint32_t pw = kQuorumDefault) {
    PutRequest request;
    request.bucket = "b";
    request.key = key;
    request.value = "v";
    request.w = w;
    request.pw = pw;
    Put(std::move(request), deadline_);
  }

  // The requests of type T sent to `to`, in order.
  template <typename T>
  std::vector<Sent> To(const NodeId& to) const {
    std::vector<Sent> out;
    for (const Sent& s : transport_.Of<T>()) {
      if (s.to == to) out.push_back(s);
    }
    return out;
  }
  // The one request of type T sent to `to`.
  template <typename T>
  Sent OnlyTo(const NodeId& to) const {
    std::vector<Sent> sent = To<T>(to);
    EXPECT_EQ(sent.size(), 1u) << "requests to " << to;
    return sent.empty() ? Sent{} : sent.back();
  }

  // `request`'s callee answers it, now.
  void Answer(const Sent& request, MessageBody reply) {
    Message m;
    m.request_id = request.message.request_id;
    m.from = request.to;
    m.body = std::move(reply);
    m.sender_generation = 2;
    m.sent_mono_us = clock_.MonoMicros();
    rpc_.OnMessage(std::move(m));
  }
  void Found(const Sent& request, const Object& object) {
    Answer(request, ReplicaGetReply{Status::OK(), true, object});
  }
  void Ack(const Sent& request) { Answer(request, ReplicaPutReply{Status::OK()}); }

  // A write another replica coordinated on top of `base`.
  Object Written(const NodeId& node, const std::string& value, const Object& base = {}) {
    ++minted_;
    return Update(base, base.context, Actor{node, 1}, 1'000 + minted_, false, value,
                  WriteId{1, minted_});
  }

  std::optional<Object> Local(const Layout& layout) {
    auto local = replica_.Read(layout.partition, "b", layout.key);
    EXPECT_TRUE(local.ok());
    return local.ok() ? *local : std::nullopt;
  }

  // The hint n1 holds for `target`, if any.
  std::optional<HintStore::Entry> HintFor(const NodeId& target) {
    auto listed = hints_.List(target, 10, "");
    EXPECT_TRUE(listed.ok());
    if (!listed.ok() || listed->empty()) return std::nullopt;
    EXPECT_EQ(listed->size(), 1u);
    return listed->front();
  }
  // This node holds `primary`'s hint of the key, and it is the object
  // stored here: the write waits for that primary on this node.
  ::testing::AssertionResult HintIsTheWrite(const Layout& l, const NodeId& primary) {
    std::optional<HintStore::Entry> hint = HintFor(primary);
    if (!hint) return ::testing::AssertionFailure() << "no hint for " << primary;
    if (hint->object != Local(l)) {
      return ::testing::AssertionFailure() << "the hint for " << primary << " is another object";
    }
    return ::testing::AssertionSuccess();
  }

  ManualClock clock_;
  ManualScheduler scheduler_{&clock_};
  RecordingTransport transport_;
  MemoryStorage storage_;
  Random random_{17};
  MetricsRegistry metrics_;
  ManualLiveness liveness_;
  ServiceOptions options_ = MakeOptions();
  Membership membership_{MakeRing()};
  PeerRpc rpc_{"n1", 3, &clock_, &scheduler_, &transport_, &random_, &metrics_};
  ObjectStore store_{&storage_, false};
  HintStore hints_{&storage_, false, &metrics_};
  Replica replica_{Actor{"n1", kIncarnation}, &options_.buckets, &store_};
  Coordinator coordinator_{&options_,
                           &membership_,
                           ServiceEnv{.clock = &clock_,
                                      .scheduler = &scheduler_,
                                      .transport = &transport_,
                                      .storage = &storage_,
                                      .random = &random_,
                                      .liveness = &liveness_,
                                      .metrics = &metrics_},
                           &rpc_,
                           &replica_,
                           &hints_,
                           &liveness_};
  const int64_t start_ = clock_.MonoMicros();
  const int64_t deadline_ = start_ + kTimeoutUs;
  std::vector<GetReply> gets_;
  std::vector<PutReply> puts_;
  uint64_t minted_ = 0;
};

// ---------------------------------------------------------------- get

TEST_F(CoordinatorTest, GetAnswersAfterRRepliesWithTheirCausalMerge) {
  Layout l = KeyWhereSelfIsPrimary(false);
  Get(l.key, 2);
  ASSERT_EQ(transport_.Of<ReplicaGetRequest>().size(), 3u);

  // p0 holds a and c; p1 holds b and a2, which supersedes a. Only their
  // merge is right: a2, b and c, without a.
  Object a = Written("n2", "a");
  Object a2 = Written("n2", "a2", a);
  Object b = Written("n3", "b");
  Object c = Written("n4", "c");
  Found(OnlyTo<ReplicaGetRequest>(l.others[0]), Sync(a, c));
  EXPECT_TRUE(gets_.empty()) << "one reply is not R=2";
  Found(OnlyTo<ReplicaGetRequest>(l.others[1]), Sync(a2, b));
  ASSERT_EQ(gets_.size(), 1u);
  EXPECT_TRUE(gets_[0].status.ok()) << gets_[0].status.ToString();
  EXPECT_TRUE(gets_[0].found);
  EXPECT_EQ(gets_[0].object, Sync(Sync(a, c), Sync(a2, b)));
  EXPECT_EQ(Values(gets_[0].object), (std::vector<std::string>{"a2", "b", "c"}));

  Found(OnlyTo<ReplicaGetRequest>(l.others[2]), a);
  EXPECT_EQ(gets_.size(), 1u) << "answered exactly once";
}

TEST_F(CoordinatorTest, GetWhoseRRepliesHoldNothingAnswersNotFound) {
  Layout l = KeyWhereSelfIsPrimary(false);
  Get(l.key, 2);
  Answer(OnlyTo<ReplicaGetRequest>(l.others[0]), ReplicaGetReply{});
  Answer(OnlyTo<ReplicaGetRequest>(l.others[2]), ReplicaGetReply{});
  ASSERT_EQ(gets_.size(), 1u);
  EXPECT_TRUE(gets_[0].status.ok());
  EXPECT_FALSE(gets_[0].found);
}

TEST_F(CoordinatorTest, PrCountsOnlyPrimariesThatAnswered) {
  // n1 is a primary: its own read is the first answer, which meets R=1.
  Layout l = KeyWhereSelfIsPrimary(true);
  Get(l.key, 1, 3);
  EXPECT_TRUE(gets_.empty()) << "R=1 is met, PR=3 is not";
  Answer(OnlyTo<ReplicaGetRequest>(l.others[0]), ReplicaGetReply{});
  EXPECT_TRUE(gets_.empty());
  Answer(OnlyTo<ReplicaGetRequest>(l.others[1]), ReplicaGetReply{});
  ASSERT_EQ(gets_.size(), 1u);
  EXPECT_TRUE(gets_[0].status.ok());

  // A primary that fails does not count toward PR: 2 of 3 can no longer be
  // met, and the get says so at once.
  Get(l.key, 1, 3);
  Answer(To<ReplicaGetRequest>(l.others[0]).back(),
         ReplicaGetReply{Status::IOError("disk"), false, {}});
  ASSERT_EQ(gets_.size(), 2u);
  EXPECT_TRUE(gets_[1].status.IsUnavailable());
  EXPECT_EQ(gets_[1].status.message(), "1 of 3 required primary replicas answered");
}

TEST_F(CoordinatorTest, ReadRepairGoesOnlyToReplicasThatAnsweredWithLess) {
  Layout l = KeyWhereSelfIsPrimary(false);
  Object ab = Sync(Written("n2", "a"), Written("n3", "b"));
  Get(l.key, 2);
  Found(OnlyTo<ReplicaGetRequest>(l.others[0]), ab);
  Answer(OnlyTo<ReplicaGetRequest>(l.others[1]), ReplicaGetReply{});  // not found
  ASSERT_EQ(gets_.size(), 1u);
  EXPECT_EQ(gets_[0].object, ab);
  // p2 may still answer: nothing is repaired before it does or the
  // deadline passes.
  EXPECT_TRUE(transport_.Of<ReplicaPutRequest>().empty());

  scheduler_.Advance(kTimeoutUs);
  auto repairs = transport_.Of<ReplicaPutRequest>();
  ASSERT_EQ(repairs.size(), 1u) << "p0 had it all and p2 never answered";
  EXPECT_EQ(repairs[0].to, l.others[1]);
  const auto& repair = std::get<ReplicaPutRequest>(repairs[0].message.body);
  EXPECT_EQ(repair.object, ab);
  EXPECT_EQ(repair.key, l.key);
  EXPECT_TRUE(repair.hint_for.empty());
}

TEST_F(CoordinatorTest, ReadRepairLeavesOnceAllAnsweredAndSkipsFailedReplicas) {
  Layout l = KeyWhereSelfIsPrimary(false);
  Object a = Written("n2", "a");
  Object b = Written("n3", "b");
  Get(l.key, 2);
  Found(OnlyTo<ReplicaGetRequest>(l.others[0]), a);
  Found(OnlyTo<ReplicaGetRequest>(l.others[1]), b);
  EXPECT_TRUE(transport_.Of<ReplicaPutRequest>().empty());
  Answer(OnlyTo<ReplicaGetRequest>(l.others[2]),
         ReplicaGetReply{Status::IOError("disk"), false, {}});

  // No time passed: the last answer, not the deadline, sent the repairs.
  auto repairs = transport_.Of<ReplicaPutRequest>();
  ASSERT_EQ(repairs.size(), 2u);
  std::vector<NodeId> repaired;
  for (const Sent& r : repairs) {
    repaired.push_back(r.to);
    EXPECT_EQ(std::get<ReplicaPutRequest>(r.message.body).object, Sync(a, b));
  }
  EXPECT_EQ(repaired, (std::vector<NodeId>{l.others[0], l.others[1]}));
}

TEST_F(CoordinatorTest, ALocalReplicaThatAnsweredWithLessIsRepairedInPlace) {
  Layout l = KeyWhereSelfIsPrimary(true);
  Object a = Written("n2", "a");
  Get(l.key, 3);
  Found(OnlyTo<ReplicaGetRequest>(l.others[0]), a);
  Found(OnlyTo<ReplicaGetRequest>(l.others[1]), a);
  ASSERT_EQ(gets_.size(), 1u);
  EXPECT_EQ(Local(l), a);
  EXPECT_TRUE(transport_.Of<ReplicaPutRequest>().empty());
}

TEST_F(CoordinatorTest, GetShortOfRIsUnavailableAtItsDeadline) {
  Layout l = KeyWhereSelfIsPrimary(false);
  liveness_.SetDown(l.others[2]);
  Get(l.key, 2);
  EXPECT_TRUE(To<ReplicaGetRequest>(l.others[2]).empty()) << "not asked: believed down";
  Found(OnlyTo<ReplicaGetRequest>(l.others[0]), Written("n2", "a"));

  scheduler_.Advance(kTimeoutUs - 1);
  EXPECT_TRUE(gets_.empty());
  scheduler_.Advance(1);
  ASSERT_EQ(gets_.size(), 1u);
  EXPECT_EQ(clock_.MonoMicros(), deadline_);
  EXPECT_TRUE(gets_[0].status.IsUnavailable());
  EXPECT_EQ(gets_[0].status.message(),
            "1 of 2 required replicas answered before the deadline; believed down: " + l.others[2]);
}

TEST_F(CoordinatorTest, GetThatCannotMeetRIsUnavailableAtOnce) {
  Layout l = KeyWhereSelfIsPrimary(false);
  liveness_.SetDown(l.others[1]);
  Get(l.key, 3);
  ASSERT_EQ(gets_.size(), 1u);
  EXPECT_EQ(gets_[0].status.message(),
            "0 of 3 required replicas answered; believed down: " + l.others[1]);
}

// ---------------------------------------------------------------- put

TEST_F(CoordinatorTest, PutIsStoredLocallyAndAnsweredAfterWAcks) {
  Layout l = KeyWhereSelfIsPrimary(true);
  Put(l.key, 3);
  std::optional<Object> local = Local(l);
  ASSERT_TRUE(local.has_value()) << "stored before anyone is told";
  ASSERT_EQ(local->siblings.size(), 1u);
  const Sibling& s = local->siblings[0];
  EXPECT_EQ(s.dot, (Dot{Actor{"n1", kIncarnation}, 1}));
  EXPECT_EQ(s.value, "v");
  EXPECT_EQ(s.timestamp_us, clock_.WallMicros());
  EXPECT_FALSE(s.write_id.empty());

  for (const NodeId& other : l.others) {
    Sent request = OnlyTo<ReplicaPutRequest>(other);
    const auto& sent = std::get<ReplicaPutRequest>(request.message.body);
    EXPECT_EQ(sent.object, *local);
    EXPECT_TRUE(sent.hint_for.empty());
    EXPECT_FALSE(sent.handoff);
  }
  Ack(OnlyTo<ReplicaPutRequest>(l.others[0]));
  EXPECT_TRUE(puts_.empty()) << "2 of W=3";
  Ack(OnlyTo<ReplicaPutRequest>(l.others[1]));
  ASSERT_EQ(puts_.size(), 1u);
  EXPECT_TRUE(puts_[0].status.ok()) << puts_[0].status.ToString();
  EXPECT_EQ(puts_[0].object, *local);
  EXPECT_TRUE(hints_.counts().empty()) << "every primary acknowledged";
}

TEST_F(CoordinatorTest, PutFailsAsSoonAsWCannotBeMet) {
  Layout l = KeyWhereSelfIsPrimary(true);
  for (const NodeId& f : l.fallbacks) liveness_.SetDown(f);
  Put(l.key, 2);
  Answer(OnlyTo<ReplicaPutRequest>(l.others[0]), ErrorReply{Status::Busy("overloaded")});
  EXPECT_TRUE(puts_.empty()) << "the other primary can still make W=2";
  Answer(OnlyTo<ReplicaPutRequest>(l.others[1]), ReplicaPutReply{Status::IOError("disk full")});
  ASSERT_EQ(puts_.size(), 1u);
  EXPECT_EQ(clock_.MonoMicros(), start_);
  EXPECT_TRUE(puts_[0].status.IsUnavailable());
  EXPECT_EQ(puts_[0].status.message(), "1 of 2 required replicas answered");
}

TEST_F(CoordinatorTest, PutShortOfWIsUnavailableAtItsDeadlineAndLeavesAHint) {
  Layout l = KeyWhereSelfIsPrimary(true);
  Put(l.key, 3);
  Ack(OnlyTo<ReplicaPutRequest>(l.others[0]));
  scheduler_.Advance(kTimeoutUs - 1);
  EXPECT_TRUE(puts_.empty());
  scheduler_.Advance(1);
  ASSERT_EQ(puts_.size(), 1u);
  EXPECT_EQ(clock_.MonoMicros(), deadline_);
  EXPECT_TRUE(puts_[0].status.IsUnavailable());
  EXPECT_EQ(puts_[0].status.message(), "2 of 3 required replicas answered before the deadline");
  // Neither the silent primary nor the fallback recruited for it answered:
  // the write waits for it here.
  EXPECT_TRUE(HintIsTheWrite(l, l.others[1]));
}

TEST_F(CoordinatorTest, APrimaryBelievedDownIsReplacedByAFallbackCarryingHintFor) {
  Layout l = KeyWhereSelfIsPrimary(true);
  liveness_.SetDown(l.others[1]);
  Put(l.key, 2);
  EXPECT_TRUE(To<ReplicaPutRequest>(l.others[1]).empty());
  EXPECT_TRUE(std::get<ReplicaPutRequest>(OnlyTo<ReplicaPutRequest>(l.others[0]).message.body)
                  .hint_for.empty());
  Sent stand_in = OnlyTo<ReplicaPutRequest>(l.fallbacks[0]);
  EXPECT_EQ(std::get<ReplicaPutRequest>(stand_in.message.body).hint_for, l.others[1]);
  EXPECT_EQ(std::get<ReplicaPutRequest>(stand_in.message.body).object, Local(l));
  EXPECT_TRUE(To<ReplicaPutRequest>(l.fallbacks[1]).empty()) << "one stand-in per primary";

  Ack(stand_in);
  ASSERT_EQ(puts_.size(), 1u) << "n1 and the fallback make W=2";
  EXPECT_TRUE(puts_[0].status.ok());
}

TEST_F(CoordinatorTest, AFallbackBelievedDownIsSkipped) {
  Layout l = KeyWhereSelfIsPrimary(true);
  liveness_.SetDown(l.others[1]);
  liveness_.SetDown(l.fallbacks[0]);
  Put(l.key, 2);
  EXPECT_TRUE(To<ReplicaPutRequest>(l.fallbacks[0]).empty());
  EXPECT_EQ(
      std::get<ReplicaPutRequest>(OnlyTo<ReplicaPutRequest>(l.fallbacks[1]).message.body).hint_for,
      l.others[1]);
}

TEST_F(CoordinatorTest, AFallbackAckCountsTowardWButNotPw) {
  Layout l = KeyWhereSelfIsPrimary(true);
  liveness_.SetDown(l.others[1]);
  Put(l.key, 2, 2);
  Ack(OnlyTo<ReplicaPutRequest>(l.fallbacks[0]));
  EXPECT_TRUE(puts_.empty()) << "W=2 is met, PW=2 is not";
  Answer(OnlyTo<ReplicaPutRequest>(l.others[0]), ReplicaPutReply{Status::IOError("disk full")});
  ASSERT_EQ(puts_.size(), 1u);
  EXPECT_EQ(puts_[0].status.message(), "1 of 2 required primary replicas answered");
}

TEST_F(CoordinatorTest, ASilentPrimaryGetsAHintOnTheCoordinatorAtHalfTheDeadline) {
  Layout l = KeyWhereSelfIsPrimary(true);
  Put(l.key, 2);
  Ack(OnlyTo<ReplicaPutRequest>(l.others[0]));
  ASSERT_EQ(puts_.size(), 1u);
  EXPECT_TRUE(puts_[0].status.ok());

  scheduler_.Advance(kTimeoutUs / 2 - 1);
  EXPECT_TRUE(hints_.counts().empty());
  scheduler_.Advance(1);
  std::optional<HintStore::Entry> hint = HintFor(l.others[1]);
  ASSERT_TRUE(hint.has_value()) << "a coordinator dying now must not lose the write for it";
  EXPECT_EQ(hint->object, puts_[0].object);
  EXPECT_EQ(hint->partition, l.partition);
  EXPECT_EQ(hint->bucket, "b");
  EXPECT_EQ(hint->key, l.key);
  for (const Sent& s : transport_.Of<ReplicaPutRequest>()) {
    EXPECT_TRUE(std::get<ReplicaPutRequest>(s.message.body).hint_for.empty())
        << "W was met: no fallback is recruited";
  }
}

TEST_F(CoordinatorTest, APrimaryThatRefusesGetsItsHintAtOnce) {
  Layout l = KeyWhereSelfIsPrimary(true);
  Put(l.key, 2);
  Answer(OnlyTo<ReplicaPutRequest>(l.others[1]), ReplicaPutReply{Status::IOError("disk full")});
  EXPECT_EQ(clock_.MonoMicros(), start_);
  EXPECT_TRUE(HintIsTheWrite(l, l.others[1])) << "the failure is known: the hint must not wait for a timer";
  Ack(OnlyTo<ReplicaPutRequest>(l.others[0]));
  ASSERT_EQ(puts_.size(), 1u);
  EXPECT_TRUE(puts_[0].status.ok());
  EXPECT_EQ(hints_.counts().at(l.others[1]), 1u);
  scheduler_.Advance(kTimeoutUs);
  EXPECT_EQ(hints_.counts().at(l.others[1]), 1u) << "one hint per primary per put";
}

TEST_F(CoordinatorTest, APrimaryThatRefusesIsReplacedByAStandInAtOnceWhileWNeedsIt) {
  Layout l = KeyWhereSelfIsPrimary(true);
  Put(l.key, 3);
  Ack(OnlyTo<ReplicaPutRequest>(l.others[0]));
  EXPECT_TRUE(To<ReplicaPutRequest>(l.fallbacks[0]).empty());
  Answer(OnlyTo<ReplicaPutRequest>(l.others[1]), ErrorReply{Status::Busy("overloaded")});
  EXPECT_EQ(clock_.MonoMicros(), start_);
  Sent stand_in = OnlyTo<ReplicaPutRequest>(l.fallbacks[0]);
  EXPECT_EQ(std::get<ReplicaPutRequest>(stand_in.message.body).hint_for, l.others[1]);
  EXPECT_TRUE(puts_.empty());
  Ack(stand_in);
  ASSERT_EQ(puts_.size(), 1u) << "W=3 met by the stand-in, with no wait";
  EXPECT_TRUE(puts_[0].status.ok());
}

TEST_F(CoordinatorTest, APrimaryThatCannotBeReachedIsReplacedAndHintedBeforeTheDeadline) {
  Layout l = KeyWhereSelfIsPrimary(true);
  transport_.Unreachable(l.others[1]);
  Put(l.key, 2);
  scheduler_.Advance(0);
  EXPECT_EQ(clock_.MonoMicros(), start_);
  ASSERT_TRUE(HintFor(l.others[1]).has_value());
  Sent stand_in = OnlyTo<ReplicaPutRequest>(l.fallbacks[0]);
  EXPECT_EQ(std::get<ReplicaPutRequest>(stand_in.message.body).hint_for, l.others[1]);
  Ack(OnlyTo<ReplicaPutRequest>(l.others[0]));
  ASSERT_EQ(puts_.size(), 1u);
  EXPECT_TRUE(puts_[0].status.ok());
}

TEST_F(CoordinatorTest, APrimaryBelievedDownWithoutAStandInGetsItsHintAtOnce) {
  Layout l = KeyWhereSelfIsPrimary(true);
  liveness_.SetDown(l.others[1]);
  for (const NodeId& f : l.fallbacks) liveness_.SetDown(f);
  Put(l.key, 2);
  EXPECT_EQ(clock_.MonoMicros(), start_);
  EXPECT_TRUE(HintIsTheWrite(l, l.others[1]));
}

TEST_F(CoordinatorTest, AFallbackThatRefusesLeavesItsPrimarysHintAtOnce) {
  Layout l = KeyWhereSelfIsPrimary(true);
  liveness_.SetDown(l.others[1]);
  Put(l.key, 2);
  EXPECT_TRUE(hints_.counts().empty()) << "the fallback stands in";
  Answer(OnlyTo<ReplicaPutRequest>(l.fallbacks[0]), ErrorReply{Status::Busy("overloaded")});
  ASSERT_TRUE(HintFor(l.others[1]).has_value()) << "n2 has not answered yet; the hint is due now";
}

TEST_F(CoordinatorTest, APrimarySilentAtHalfTheDeadlineIsReplacedWhenWNeedsIt) {
  Layout l = KeyWhereSelfIsPrimary(true);
  Put(l.key, 3);
  Ack(OnlyTo<ReplicaPutRequest>(l.others[0]));
  scheduler_.Advance(kTimeoutUs / 2 - 1);
  EXPECT_TRUE(To<ReplicaPutRequest>(l.fallbacks[0]).empty());
  scheduler_.Advance(1);
  Sent stand_in = OnlyTo<ReplicaPutRequest>(l.fallbacks[0]);
  EXPECT_EQ(std::get<ReplicaPutRequest>(stand_in.message.body).hint_for, l.others[1]);
  EXPECT_TRUE(hints_.counts().empty()) << "the fallback keeps the hint, not n1";

  Ack(stand_in);
  ASSERT_EQ(puts_.size(), 1u);
  EXPECT_TRUE(puts_[0].status.ok());
  scheduler_.Advance(kTimeoutUs);
  EXPECT_TRUE(hints_.counts().empty()) << "covered by the fallback's ack";
}

// ---------------------------------------------------------------- forward

PutRequest ForwardedBody(const Sent& s) { return std::get<PutRequest>(s.message.body); }

TEST_F(CoordinatorTest, ANonPrimaryForwardsAndMovesOnWhenTheSliceEndsWithTheSameWrite) {
  Layout l = KeyWhereSelfIsPrimary(false);
  // Three primaries, three slices of a second each.
  const int64_t deadline = start_ + 3 * kTimeoutUs;
  PutRequest request;
  request.bucket = "b";
  request.key = l.key;
  request.value = "v";
  Put(request, deadline);

  Sent first = OnlyTo<PutRequest>(l.others[0]);
  PutRequest sent = ForwardedBody(first);
  EXPECT_TRUE(sent.forwarded);
  EXPECT_EQ(sent.value, "v");
  EXPECT_EQ(sent.timestamp_us, clock_.WallMicros());
  EXPECT_FALSE(sent.write_id.empty());
  // The target is told 50 ms less than its slice, so even its refusal
  // arrives before n1 moves on.
  EXPECT_EQ(first.message.timeout_ms, 950u);
  EXPECT_EQ(Local(l), std::nullopt) << "a non-primary mints no dot";

  scheduler_.Advance(kTimeoutUs - 1);
  EXPECT_EQ(transport_.Of<PutRequest>().size(), 1u);
  scheduler_.Advance(1);
  Sent second = OnlyTo<PutRequest>(l.others[1]);
  PutRequest retry = ForwardedBody(second);
  EXPECT_EQ(retry.timestamp_us, sent.timestamp_us);
  EXPECT_EQ(retry.write_id, sent.write_id);
  EXPECT_EQ(retry.value, "v");
  EXPECT_EQ(second.message.timeout_ms, 950u);

  PutReply coordinated;
  coordinated.object = Written(l.others[1], "v");
  Answer(second, coordinated);
  ASSERT_EQ(puts_.size(), 1u);
  EXPECT_EQ(puts_[0], coordinated);
  Answer(first, PutReply{});  // the first primary, too late
  EXPECT_EQ(puts_.size(), 1u);
  EXPECT_TRUE(To<PutRequest>(l.others[2]).empty());
}

TEST_F(CoordinatorTest, AForwardRefusedMovesOnAtOnceAndTriesDownPrimariesLast) {
  Layout l = KeyWhereSelfIsPrimary(false);
  liveness_.SetDown(l.others[0]);
  PutRequest request;
  request.bucket = "b";
  request.key = l.key;
  request.value = "v";
  Put(request, start_ + 3 * kTimeoutUs);

  EXPECT_TRUE(To<PutRequest>(l.others[0]).empty());
  Answer(OnlyTo<PutRequest>(l.others[1]), ErrorReply{Status::Timeout("expired on the way")});
  // Nothing else waited: the two primaries left share all 3 s.
  Sent second = OnlyTo<PutRequest>(l.others[2]);
  EXPECT_EQ(second.message.timeout_ms, 1'450u);
  Answer(second, ErrorReply{Status::Busy("overloaded")});
  Sent last = OnlyTo<PutRequest>(l.others[0]);
  EXPECT_EQ(last.message.timeout_ms, 2'950u);
  EXPECT_EQ(ForwardedBody(last).write_id, ForwardedBody(second).write_id);
  EXPECT_TRUE(puts_.empty());
}

TEST_F(CoordinatorTest, AForwardNoPrimaryAnswersIsUnavailableAtItsDeadline) {
  Layout l = KeyWhereSelfIsPrimary(false);
  PutRequest request;
  request.bucket = "b";
  request.key = l.key;
  request.value = "v";
  const int64_t deadline = start_ + 3 * kTimeoutUs;
  Put(request, deadline);
  scheduler_.Advance(3 * kTimeoutUs - 1);
  EXPECT_TRUE(puts_.empty());
  EXPECT_EQ(transport_.Of<PutRequest>().size(), 3u);
  scheduler_.Advance(1);
  ASSERT_EQ(puts_.size(), 1u);
  EXPECT_EQ(clock_.MonoMicros(), deadline);
  EXPECT_TRUE(puts_[0].status.IsUnavailable());
  EXPECT_EQ(puts_[0].status.message(),
            "no primary replica answered the forwarded put (tried 3 of 3)");
}

TEST_F(CoordinatorTest, APrimaryThatIsNotTheOwnerHandsConditionalPutsToIt) {
  Layout l = KeyWhereSelfIs(1);  // the owner is l.others[0]
  PutRequest request;
  request.bucket = "b";
  request.key = l.key;
  request.value = "v";
  request.if_match = true;
  Put(request, start_ + 2 * kTimeoutUs);
  Sent to_owner = OnlyTo<PutRequest>(l.others[0]);
  EXPECT_TRUE(ForwardedBody(to_owner).forwarded);
  EXPECT_TRUE(ForwardedBody(to_owner).if_match);
  EXPECT_EQ(Local(l), std::nullopt) << "the owner coordinates it";
  EXPECT_TRUE(transport_.Of<ReplicaPutRequest>().empty());
  // An unconditional put is coordinated here, as before.
  Put(l.key, 1);
  EXPECT_TRUE(Local(l).has_value());
}

TEST_F(CoordinatorTest, AWriteHandedToASilentOwnerIsCoordinatedHereAfterAll) {
  Layout l = KeyWhereSelfIs(1);
  PutRequest request;
  request.bucket = "b";
  request.key = l.key;
  request.value = "v";
  request.w = 1;
  request.if_match = true;
  const int64_t deadline = start_ + 3 * kTimeoutUs;
  Put(request, deadline);
  // The two other primaries share the time left; neither answers.
  Answer(OnlyTo<PutRequest>(l.others[0]), ErrorReply{Status::Busy("overloaded")});
  Answer(OnlyTo<PutRequest>(l.others[1]), ErrorReply{Status::Busy("overloaded")});
  std::optional<Object> local = Local(l);
  ASSERT_TRUE(local.has_value()) << "coordinated here as the last resort";
  EXPECT_EQ(local->siblings.at(0).dot.actor.node, "n1");
  ASSERT_EQ(puts_.size(), 1u);
  EXPECT_TRUE(puts_[0].status.ok()) << puts_[0].status.ToString();
}

// ---------------------------------------------------------------- validation

TEST_F(CoordinatorTest, InvalidRequestsAreAnsweredAtOnce) {
  Layout l = KeyWhereSelfIsPrimary(true);
  struct Case {
    std::string name;
    std::function<void(PutRequest&)> spoil;
    std::string message;
  };
  // A key's, a value's and a context's bounds are checked where a request
  // enters the node (service_validation_test); these need the bucket.
  const std::vector<Case> puts = {
      {"w > n", [](PutRequest& p) { p.w = 4; }, "w=4 exceeds the bucket's n=3"},
      {"pw > n", [](PutRequest& p) { p.pw = 5; }, "pw=5 exceeds the bucket's n=3"},
  };
  for (const Case& c : puts) {
    SCOPED_TRACE(c.name);
    PutRequest request;
    request.bucket = "b";
    request.key = l.key;
    request.value = "v";
    c.spoil(request);
    puts_.clear();
    Put(request, deadline_);
    ASSERT_EQ(puts_.size(), 1u);
    EXPECT_TRUE(puts_[0].status.IsInvalidArgument());
    EXPECT_EQ(puts_[0].status.message(), c.message);
  }

  PutRequest bad_context;
  bad_context.bucket = "b";
  bad_context.key = l.key;
  bad_context.value = "v";
  bad_context.context = "not a context";
  puts_.clear();
  Put(bad_context, deadline_);
  ASSERT_EQ(puts_.size(), 1u);
  EXPECT_TRUE(puts_[0].status.IsInvalidArgument());
  EXPECT_TRUE(puts_[0].status.message().starts_with("malformed context: "))
      << puts_[0].status.message();

  Get(l.key, 4);
  Get(l.key, 1, 4);
  ASSERT_EQ(gets_.size(), 2u);
  EXPECT_EQ(gets_[0].status.message(), "r=4 exceeds the bucket's n=3");
  EXPECT_EQ(gets_[1].status.message(), "pr=4 exceeds the bucket's n=3");

  // Refused before touching anything: nothing stored, sent or scheduled.
  EXPECT_EQ(Local(l), std::nullopt);
  EXPECT_TRUE(transport_.sent().empty());
  EXPECT_EQ(scheduler_.pending(), 0u);
}

}  // namespace
}  // namespace ringkv
