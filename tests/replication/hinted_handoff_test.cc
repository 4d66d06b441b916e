// HintedHandoff on a hand-driven world: which hints go where, how fast (in
// manual time), and when a delivered hint may be deleted.
#include "replication/hinted_handoff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "common/random.h"
#include "replication/object_store.h"
#include "replication/replica.h"
#include "storage/memory_storage.h"
#include "tests/common/metric_value.h"
#include "tests/testing/fake_env.h"

namespace ringkv {
namespace {

using testing::ManualClock;
using testing::ManualLiveness;
using testing::ManualScheduler;
using testing::MetricValue;
using testing::RecordingTransport;
using Sent = RecordingTransport::Sent;

constexpr int64_t kMs = 1000;
constexpr int64_t kTick = 100 * kMs;
constexpr int64_t kAckTimeout = 1'000 * kMs;
constexpr uint32_t kPartition = 9;

// Counts the iterators opened on it: each is a listing of hints, which
// reads and decodes every hint it passes.
class IteratorCountingStorage : public MemoryStorage {
 public:
  std::unique_ptr<Iterator> NewIterator(const IteratorOptions& options) override {
    ++iterators_;
    return MemoryStorage::NewIterator(options);
  }
  uint64_t iterators() const { return iterators_; }

 private:
  uint64_t iterators_ = 0;
};

class HintedHandoffTest : public ::testing::Test {
 protected:
  HintedHandoffTest() { EXPECT_TRUE(hints_.Load().ok()); }

  void TearDown() override { EXPECT_TRUE(transport_.undecodable().empty()); }

  // Hands off at `rate_per_sec`; the in-flight window is wide enough never
  // to be what holds a hint back here.
  void Start(double rate_per_sec, HandoffOptions options = {}) {
    options.rate_per_sec = rate_per_sec;
    options.max_in_flight = 64;
    options.tick_us = kTick;
    options.ack_timeout_us = kAckTimeout;
    handoff_ = std::make_unique<HintedHandoff>(&rpc_, &hints_, &replica_, &liveness_, options,
                                               &clock_, &scheduler_, &metrics_);
    handoff_->Start();
  }

  Object Hint(const NodeId& target, const std::string& key, const std::string& value,
              const Object& base = {}) {
    Object o = Update(base, base.context, Actor{"n1", 1}, 1'000, false, value, WriteId{1, ++ids_});
    EXPECT_TRUE(hints_.Add(target, kPartition, "b", key, o).ok());
    return o;
  }

  std::vector<Sent> Deliveries() const { return transport_.Of<ReplicaPutRequest>(); }
  std::vector<Sent> DeliveriesTo(const NodeId& to) const {
    std::vector<Sent> out;
    for (const Sent& s : Deliveries()) {
      if (s.to == to) out.push_back(s);
    }
    return out;
  }
  static const ReplicaPutRequest& Body(const Sent& s) {
    return std::get<ReplicaPutRequest>(s.message.body);
  }

  // `delivery`'s target answers it, now.
  void Answer(const Sent& delivery, MessageBody reply) {
    Message m;
    m.request_id = delivery.message.request_id;
    m.from = delivery.to;
    m.body = std::move(reply);
    m.sender_generation = 2;
    m.sent_mono_us = clock_.MonoMicros();
    rpc_.OnMessage(std::move(m));
  }

  uint64_t Pending(const NodeId& target) const {
    auto it = hints_.counts().find(target);
    return it == hints_.counts().end() ? 0 : it->second;
  }

  ManualClock clock_;
  ManualScheduler scheduler_{&clock_};
  RecordingTransport transport_;
  IteratorCountingStorage storage_;
  Random random_{5};
  MetricsRegistry metrics_;
  ManualLiveness liveness_;
  PeerRpc rpc_{"n1", 3, &clock_, &scheduler_, &transport_, &random_, &metrics_};
  HintStore hints_{&storage_, false, &metrics_};
  BucketTable buckets_;
  ObjectStore objects_{&storage_, false};
  Replica replica_{Actor{"n1", 1}, &buckets_, &objects_};
  std::unique_ptr<HintedHandoff> handoff_;
  uint64_t ids_ = 0;
};

TEST_F(HintedHandoffTest, HintsGoOnlyToTargetsBelievedUp) {
  Object for_n2 = Hint("n2", "k1", "a");
  Hint("n3", "k2", "b");
  liveness_.SetDown("n3");
  Start(1'000);

  scheduler_.Advance(kTick);
  std::vector<Sent> sent = Deliveries();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to, "n2");
  EXPECT_EQ(Body(sent[0]).object, for_n2);
  EXPECT_EQ(Body(sent[0]).key, "k1");
  EXPECT_TRUE(Body(sent[0]).handoff);
  EXPECT_TRUE(Body(sent[0]).hint_for.empty()) << "the owner merges it as a replica write";

  scheduler_.Advance(5 * kTick);
  EXPECT_TRUE(DeliveriesTo("n3").empty());
  liveness_.SetUp("n3");
  scheduler_.Advance(kTick);
  EXPECT_EQ(DeliveriesTo("n3").size(), 1u);
}

TEST_F(HintedHandoffTest, DeliveryIsPacedByTheTokenBucketInManualTime) {
  for (int i = 0; i < 40; ++i) Hint("n2", "k" + std::to_string(100 + i), "v");
  // 10 per second is one per 100 ms tick.
  Start(10);
  for (size_t tick = 1; tick <= 10; ++tick) {
    scheduler_.Advance(kTick);
    EXPECT_EQ(Deliveries().size(), tick) << "after tick " << tick;
  }

  // A quiet spell does not turn into a burst: the bucket holds two ticks'
  // worth, however long n2 was down.
  liveness_.SetDown("n2");
  scheduler_.Advance(10 * kTick);
  EXPECT_EQ(Deliveries().size(), 10u);
  liveness_.SetUp("n2");
  scheduler_.Advance(kTick);
  EXPECT_EQ(Deliveries().size(), 12u);
  scheduler_.Advance(kTick);
  EXPECT_EQ(Deliveries().size(), 13u);
}

TEST_F(HintedHandoffTest, TheRateIsForAllTargetsTogether) {
  for (int i = 0; i < 20; ++i) {
    Hint("n2", "k" + std::to_string(100 + i), "v");
    Hint("n3", "k" + std::to_string(100 + i), "v");
  }
  Start(10);
  scheduler_.Advance(10 * kTick);
  EXPECT_EQ(Deliveries().size(), 10u);
}

TEST_F(HintedHandoffTest, AHintIsDeletedOnlyAfterAnOkAck) {
  Hint("n2", "k1", "a");
  Start(1'000);
  scheduler_.Advance(kTick);
  ASSERT_EQ(Deliveries().size(), 1u);
  EXPECT_EQ(Pending("n2"), 1u) << "sent is not delivered";

  Answer(Deliveries()[0], ReplicaPutReply{Status::OK()});
  EXPECT_EQ(Pending("n2"), 0u);
  EXPECT_TRUE(hints_.List("n2", 10, "")->empty());
  EXPECT_EQ(handoff_->delivered(), 1u);
  EXPECT_EQ(MetricValue(metrics_, "ringkv_hints_delivered_total"), 1);
}

TEST_F(HintedHandoffTest, AnErrorAckKeepsTheHintAndItIsSentAgain) {
  Object hint = Hint("n2", "k1", "a");
  Start(1'000);
  scheduler_.Advance(kTick);
  ASSERT_EQ(Deliveries().size(), 1u);
  Answer(Deliveries()[0], ReplicaPutReply{Status::IOError("disk full")});
  EXPECT_EQ(Pending("n2"), 1u);
  EXPECT_EQ(handoff_->delivered(), 0u);

  // The next pass starts over from the first hint.
  scheduler_.Advance(2 * kTick);
  ASSERT_EQ(Deliveries().size(), 2u);
  EXPECT_EQ(Body(Deliveries()[1]).object, hint);
  Answer(Deliveries()[1], ErrorReply{Status::Timeout("expired on the way")});
  EXPECT_EQ(Pending("n2"), 1u) << "a refusal is no ack";

  scheduler_.Advance(2 * kTick);
  ASSERT_EQ(Deliveries().size(), 3u);
  Answer(Deliveries()[2], ReplicaPutReply{Status::OK()});
  EXPECT_EQ(Pending("n2"), 0u);
  EXPECT_EQ(handoff_->delivered(), 1u);
}

TEST_F(HintedHandoffTest, AnUnacknowledgedHintIsSentAgainAfterAckTimeoutNotBefore) {
  Object hint = Hint("n2", "k1", "a");
  Start(1'000);
  scheduler_.Advance(kTick);
  ASSERT_EQ(Deliveries().size(), 1u);

  // Still waiting for n2's ack: sending it again would only spend the rate
  // and the in-flight window on a copy n2 is already merging.
  scheduler_.Advance(kAckTimeout - kTick);
  EXPECT_EQ(Deliveries().size(), 1u) << "re-sent while the first delivery was in flight";

  scheduler_.Advance(3 * kTick);
  std::vector<Sent> sent = Deliveries();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(Body(sent.back()).object, hint);
  // The first delivery's ack, after its timeout, counts for nothing; the
  // retry's does.
  Answer(sent.front(), ReplicaPutReply{Status::OK()});
  EXPECT_EQ(Pending("n2"), 1u);
  Answer(sent.back(), ReplicaPutReply{Status::OK()});
  EXPECT_EQ(Pending("n2"), 0u);
}

// A hint may be 15 MiB: while its delivery waits for the ack, the passes
// leave the store alone instead of reading it again every other tick (on
// a loaded machine that alone kept a node from serving).
TEST_F(HintedHandoffTest, AHintWaitingForItsAckIsNotReadAgain) {
  Hint("n2", "k1", "a");
  Start(1'000);
  scheduler_.Advance(kTick);
  std::vector<Sent> sent = Deliveries();
  ASSERT_EQ(sent.size(), 1u);
  const uint64_t listings = storage_.iterators();
  scheduler_.Advance(kAckTimeout - 2 * kTick);
  EXPECT_EQ(storage_.iterators(), listings) << "the in-flight hint was listed again";
  Answer(sent[0], ReplicaPutReply{Status::OK()});
  EXPECT_EQ(Pending("n2"), 0u);
  // A new hint for the target is listed and sent on the next pass.
  Hint("n2", "k2", "b");
  scheduler_.Advance(kTick);
  ASSERT_EQ(Deliveries().size(), 2u);
  EXPECT_EQ(Body(Deliveries().back()).key, "k2");
}

TEST_F(HintedHandoffTest, AHintMergedWithNewerDataInFlightSurvivesTheOldAck) {
  Object old = Hint("n2", "k1", "old");
  Start(1'000);
  scheduler_.Advance(kTick);
  ASSERT_EQ(Deliveries().size(), 1u);
  ASSERT_EQ(Body(Deliveries()[0]).object, old);

  // A newer write for n2 is merged into the hint while the old copy is on
  // its way; n2's ack covers only the old copy.
  Object newer = Hint("n2", "k1", "newer", old);
  Answer(Deliveries()[0], ReplicaPutReply{Status::OK()});
  EXPECT_EQ(Pending("n2"), 1u);
  EXPECT_EQ(handoff_->delivered(), 0u);
  auto kept = hints_.List("n2", 10, "");
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].object, newer);

  scheduler_.Advance(2 * kTick);
  ASSERT_EQ(Deliveries().size(), 2u);
  EXPECT_EQ(Body(Deliveries()[1]).object, newer);
  Answer(Deliveries()[1], ReplicaPutReply{Status::OK()});
  EXPECT_EQ(Pending("n2"), 0u);
  EXPECT_EQ(handoff_->delivered(), 1u);
}

// Issue 12: a hint its target refuses as invalid (or too large) would be
// refused again however often it is sent; it is parked, reported, and
// tried again only after a growing wait, never in a loop.
TEST_F(HintedHandoffTest, AHintTheTargetRefusesAsInvalidIsParkedAndRetriedOnlyAfterABackoff) {
  Hint("n2", "k1", "a");
  std::vector<std::string> warnings;
  HandoffOptions options;
  options.rate_per_sec = 1'000;
  options.tick_us = kTick;
  options.ack_timeout_us = kAckTimeout;
  options.park_initial_us = 60'000 * kMs;
  options.park_max_us = 240'000 * kMs;
  options.warn = [&warnings](const std::string& line) { warnings.push_back(line); };
  handoff_ = std::make_unique<HintedHandoff>(&rpc_, &hints_, &replica_, &liveness_, options,
                                             &clock_, &scheduler_, &metrics_);
  handoff_->Start();

  scheduler_.Advance(kTick);
  ASSERT_EQ(Deliveries().size(), 1u);
  Answer(Deliveries()[0], ReplicaPutReply{Status::InvalidArgument("key must be 1..65536 bytes")});
  EXPECT_EQ(MetricValue(metrics_, "ringkv_hints_parked"), 1);
  EXPECT_EQ(MetricValue(metrics_, "ringkv_hint_deliveries_refused_total"), 1);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("hint for n2 of b/k1 cannot be delivered"), std::string::npos)
      << warnings[0];
  EXPECT_EQ(Pending("n2"), 1u) << "parked, not dropped";

  // A minute of ticks: nothing is sent; a pass or two after it, once more.
  scheduler_.Advance(60'000 * kMs - kTick);
  EXPECT_EQ(Deliveries().size(), 1u);
  scheduler_.Advance(3 * kTick);
  ASSERT_EQ(Deliveries().size(), 2u);
  Answer(Deliveries()[1], ErrorReply{Status::ObjectTooLarge("merging this copy would ...")});
  // Refused again: the wait doubles.
  scheduler_.Advance(120'000 * kMs - kTick);
  EXPECT_EQ(Deliveries().size(), 2u);
  scheduler_.Advance(3 * kTick);
  ASSERT_EQ(Deliveries().size(), 3u);
  // The target took it after all (it was fixed): delivered and unparked.
  Answer(Deliveries()[2], ReplicaPutReply{Status::OK()});
  EXPECT_EQ(Pending("n2"), 0u);
  EXPECT_EQ(MetricValue(metrics_, "ringkv_hints_parked"), 0);
  EXPECT_EQ(handoff_->delivered(), 1u);
}

TEST_F(HintedHandoffTest, AHintTooLargeToSendIsParkedWithoutBeingSent) {
  // Two copies coordinated apart merged into one hint: 24 MiB, over any
  // frame.
  Object big;
  for (uint64_t i = 1; i <= 6; ++i) {
    const Actor a{i <= 3 ? "n3" : "n4", 1};
    big.siblings.push_back(Sibling{Dot{a, i}, 1'000, false, std::string(4 << 20, 'x'),
                                   WriteId{i, 1}});
    big.context.Set(a, i);
  }
  std::sort(big.siblings.begin(), big.siblings.end(), SiblingLess);
  ASSERT_EQ(CheckInvariants(big), "");
  ASSERT_TRUE(hints_.Add("n2", kPartition, "b", "huge", big).ok());
  Hint("n2", "small", "a");
  Start(1'000);
  scheduler_.Advance(kTick);
  std::vector<Sent> sent = Deliveries();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(Body(sent[0]).key, "small") << "the other hints still go";
  EXPECT_EQ(MetricValue(metrics_, "ringkv_hints_parked"), 1);
  Answer(sent[0], ReplicaPutReply{Status::OK()});

  // Ten seconds of passes: the huge hint is never sent.
  scheduler_.Advance(100 * kTick);
  EXPECT_EQ(Deliveries().size(), 1u);
  EXPECT_EQ(MetricValue(metrics_, "ringkv_hint_deliveries_sent_total"), 1);
  EXPECT_EQ(MetricValue(metrics_, "ringkv_hint_deliveries_refused_total"), 1);
  EXPECT_EQ(Pending("n2"), 1u);
}

// A parked hint that is removed by someone else (anti-entropy's reaping
// drops the hints a tombstone covers) leaves the parked list with it:
// `ringkv_hints_parked` goes back to 0, and a new hint for the same target
// goes out at once instead of waiting behind the stale entry's backoff
// (every hint of the target counted as parked, so the pass skipped it).
TEST_F(HintedHandoffTest, AParkedHintDroppedElsewhereIsNoLongerParked) {
  const Object old = Hint("n2", "k1", "a");
  Start(1'000);
  scheduler_.Advance(kTick);
  ASSERT_EQ(Deliveries().size(), 1u);
  Answer(Deliveries()[0], ReplicaPutReply{Status::InvalidArgument("refused")});
  ASSERT_EQ(MetricValue(metrics_, "ringkv_hints_parked"), 1);

  VersionVector tombstone = old.context;
  tombstone.Set(Actor{"n1", 1}, old.context.Get(Actor{"n1", 1}) + 1);
  auto clear = hints_.DropCovered(kPartition, "b", "k1", tombstone);
  ASSERT_TRUE(clear.ok());
  EXPECT_FALSE(*clear) << "there was a hint";
  EXPECT_EQ(Pending("n2"), 0u);
  EXPECT_EQ(MetricValue(metrics_, "ringkv_hints_parked"), 0);

  Hint("n2", "k2", "b");
  scheduler_.Advance(2 * kTick);
  ASSERT_EQ(Deliveries().size(), 2u);
  EXPECT_EQ(Body(Deliveries()[1]).key, "k2");
  Answer(Deliveries()[1], ReplicaPutReply{Status::OK()});
  EXPECT_EQ(Pending("n2"), 0u);
}

}  // namespace
}  // namespace ringkv

namespace ringkv {
namespace {

// A ring change since the hint was written: while the target's copy of the
// partition streams to a receiver, the hint goes to both (the pair a
// coordinator writes) and is removed only once both acknowledged it.
TEST_F(HintedHandoffTest, AHintForAnOwnerHandingOverGoesToItsReceiverToo) {
  Object hint = Hint("n2", "k1", "a");
  HandoffOptions options;
  options.route = [](const HintStore::Entry& e) {
    return e.target == "n2" ? std::vector<NodeId>{"n2", "n5"} : std::vector<NodeId>{};
  };
  Start(1'000, options);
  scheduler_.Advance(kTick);
  ASSERT_EQ(DeliveriesTo("n2").size(), 1u);
  ASSERT_EQ(DeliveriesTo("n5").size(), 1u);
  EXPECT_EQ(Body(DeliveriesTo("n5")[0]).object, hint);
  EXPECT_TRUE(Body(DeliveriesTo("n5")[0]).handoff);
  Answer(DeliveriesTo("n2")[0], ReplicaPutReply{Status::OK()});
  EXPECT_EQ(Pending("n2"), 1u) << "removed before the receiver had it";
  Answer(DeliveriesTo("n5")[0], ReplicaPutReply{Status::OK()});
  EXPECT_EQ(Pending("n2"), 0u);
  EXPECT_EQ(handoff_->delivered(), 1u);
}

// One copy refused (the receiver not yet at the ring that names it): the
// hint stays and both get it again on a later pass.
TEST_F(HintedHandoffTest, ARoutedHintWithOneCopyRefusedStaysAndIsSentAgain) {
  Hint("n2", "k1", "a");
  HandoffOptions options;
  options.route = [](const HintStore::Entry&) { return std::vector<NodeId>{"n2", "n5"}; };
  Start(1'000, options);
  scheduler_.Advance(kTick);
  Answer(DeliveriesTo("n2")[0], ReplicaPutReply{Status::OK()});
  Answer(DeliveriesTo("n5")[0], ReplicaPutReply{Status::Unavailable("not a replica")});
  EXPECT_EQ(Pending("n2"), 1u);
  scheduler_.Advance(2 * kTick);
  ASSERT_EQ(DeliveriesTo("n5").size(), 2u);
  ASSERT_EQ(DeliveriesTo("n2").size(), 2u);
  Answer(DeliveriesTo("n2")[1], ReplicaPutReply{Status::OK()});
  Answer(DeliveriesTo("n5")[1], ReplicaPutReply{Status::OK()});
  EXPECT_EQ(Pending("n2"), 0u);
}

// The target left the ring (stopped, so the failure detector holds it
// down): its hints go to the partition's replicas now, this node's own
// copy merged here, and never to the departed node.
TEST_F(HintedHandoffTest, AHintForANodeThatLeftGoesToThePartitionsReplicas) {
  Object hint = Hint("n2", "k1", "a");
  liveness_.SetDown("n2");
  HandoffOptions options;
  options.member = [](const NodeId& n) { return n != "n2"; };
  options.route = [](const HintStore::Entry&) { return std::vector<NodeId>{"n1", "n3", "n5"}; };
  Start(1'000, options);
  scheduler_.Advance(kTick);
  EXPECT_TRUE(DeliveriesTo("n2").empty());
  ASSERT_EQ(DeliveriesTo("n3").size(), 1u);
  ASSERT_EQ(DeliveriesTo("n5").size(), 1u);
  EXPECT_EQ(Body(DeliveriesTo("n3")[0]).object, hint);
  Answer(DeliveriesTo("n3")[0], ReplicaPutReply{Status::OK()});
  Answer(DeliveriesTo("n5")[0], ReplicaPutReply{Status::OK()});
  scheduler_.Advance(kTick);  // this node's merge commits on its turn
  EXPECT_EQ(Pending("n2"), 0u);
  Result<std::optional<Object>> here = replica_.Read(kPartition, "b", "k1");
  ASSERT_TRUE(here.ok());
  ASSERT_TRUE(here->has_value());
  EXPECT_EQ(**here, hint);
}

// A routed hint waits while a node it now goes to is down.
TEST_F(HintedHandoffTest, ARoutedHintWaitsForEveryNodeItGoesTo) {
  Hint("n2", "k1", "a");
  liveness_.SetDown("n5");
  HandoffOptions options;
  options.route = [](const HintStore::Entry&) { return std::vector<NodeId>{"n2", "n5"}; };
  Start(1'000, options);
  scheduler_.Advance(3 * kTick);
  EXPECT_TRUE(Deliveries().empty());
  liveness_.SetUp("n5");
  // The pass that wraps around to it (at most two ticks).
  scheduler_.Advance(2 * kTick);
  EXPECT_EQ(Deliveries().size(), 2u);
}

}  // namespace
}  // namespace ringkv
