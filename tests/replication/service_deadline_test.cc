// A write is coordinated at most once, in effect (docs/architecture.md): a
// forwarded put that waited past its deadline (in a stopped node's socket
// buffer) is refused, a put coordinated twice mints one dot, and the LWW
// timestamp and write id are minted where the client's request entered.
#include <gtest/gtest.h>

#include <optional>

#include "tests/replication/service_fixture.h"

namespace ringkv {
namespace {

constexpr int64_t kMs = 1000;
constexpr int64_t kPeerClockOffset = 123'456'789;  // n1's monotonic clock is this far behind
constexpr uint64_t kN1Generation = 5;

class ServiceDeadlineTest : public testing::ServiceFixture {
 protected:
  ServiceDeadlineTest() {
    // A key n2 coordinates and n1 does not: n1 would forward it to n2.
    key_ = FirstKey("k", [](const std::vector<NodeId>& p) {
      return Holds(p, "n2") && !Holds(p, "n1");
    });
    // n1 has been heard from before (its gossip, say): n2 knows its clock.
    Deliver(Gossip{}, /*waited_us=*/0, /*timeout_ms=*/0, 0);
  }

  // A message from n1, written `waited_us` before now by n1's clock.
  void Deliver(MessageBody body, int64_t waited_us, uint32_t timeout_ms, uint64_t request_id) {
    Message m;
    m.request_id = request_id;
    m.from = "n1";
    m.timeout_ms = timeout_ms;
    m.sender_generation = kN1Generation;
    m.sent_mono_us = clock_.MonoMicros() - kPeerClockOffset - waited_us;
    m.body = std::move(body);
    service_->OnPeerMessage(std::move(m));
    EndTurn();
  }

  PutRequest Forward(const std::string& value) const {
    PutRequest put;
    put.bucket = "b";
    put.key = key_;
    put.value = value;
    put.forwarded = true;
    put.timestamp_us = 1'234'567;
    put.write_id = WriteId{0xabc, 0xdef};
    return put;
  }

  std::optional<Object> Local() { return ServiceFixture::Local(key_); }

  std::string key_;
};

TEST_F(ServiceDeadlineTest, ForwardThatWaitedPastItsDeadlineIsRefusedAndNotApplied) {
  // Written 3 s ago with 1.5 s to live: it sat in a socket buffer while
  // this node was stopped.
  Deliver(Forward("stale"), 3'000 * kMs, 1'500, 77);
  EXPECT_FALSE(Local().has_value());
  auto errors = transport_.Of<ErrorReply>();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].to, "n1");
  EXPECT_EQ(errors[0].message.request_id, 77u);
  EXPECT_TRUE(std::get<ErrorReply>(errors[0].message.body).status.IsTimeout());
  EXPECT_TRUE(transport_.Of<ReplicaPutRequest>().empty()) << "nothing may be replicated";
}

TEST_F(ServiceDeadlineTest, ReplicaWriteThatWaitedPastItsDeadlineIsNotApplied) {
  Object o = Update({}, {}, Actor{"n3", 1}, 5, false, "late", WriteId{1, 1});
  Deliver(ReplicaPutRequest{"b", key_, o, {}}, 2'000 * kMs, 1'000, 78);
  EXPECT_FALSE(Local().has_value());
  ASSERT_EQ(transport_.Of<ErrorReply>().size(), 1u);
}

TEST_F(ServiceDeadlineTest, PromptForwardIsCoordinatedWithTheEntryTimestampAndWriteId) {
  Deliver(Forward("fresh"), 20 * kMs, 1'500, 79);
  std::optional<Object> local = Local();
  ASSERT_TRUE(local.has_value());
  ASSERT_EQ(local->siblings.size(), 1u);
  EXPECT_EQ(local->siblings[0].value, "fresh");
  EXPECT_EQ(local->siblings[0].timestamp_us, 1'234'567);
  EXPECT_EQ(local->siblings[0].write_id, (WriteId{0xabc, 0xdef}));
  // Replica writes carry the time left, net of the 20 ms the forward waited.
  auto puts = transport_.Of<ReplicaPutRequest>();
  ASSERT_EQ(puts.size(), 2u);
  for (const auto& p : puts) EXPECT_LE(p.message.timeout_ms, 1'480u);
}

TEST_F(ServiceDeadlineTest, WriteCoordinatedTwiceMintsOneDot) {
  // The forwarder gave up on n2 and n3 coordinated too; then a duplicate of
  // the forward (another request id) reaches n2 in time.
  Deliver(Forward("once"), 0, 1'500, 80);
  Deliver(Forward("once"), 0, 1'500, 81);
  std::optional<Object> local = Local();
  ASSERT_TRUE(local.has_value());
  ASSERT_EQ(local->siblings.size(), 1u);
  EXPECT_EQ(local->context.Get(Actor{"n2", kIncarnation}), 1u);
}

TEST_F(ServiceDeadlineTest, ClientCannotChooseTheTimestampOrTheWriteId) {
  Message m;
  m.request_id = 5;
  PutRequest put;
  put.bucket = "b";
  put.key = key_;
  put.value = "v";
  put.timestamp_us = 1;
  put.write_id = WriteId{1, 2};
  m.body = put;
  service_->HandleClientRequest(std::move(m), [](Message) {});
  // n2 is a primary: it coordinated the put itself.
  std::optional<Object> local = Local();
  ASSERT_TRUE(local.has_value());
  ASSERT_EQ(local->siblings.size(), 1u);
  EXPECT_EQ(local->siblings[0].timestamp_us, clock_.WallMicros());
  EXPECT_NE(local->siblings[0].write_id, (WriteId{1, 2}));
  EXPECT_FALSE(local->siblings[0].write_id.empty());
}

TEST_F(ServiceDeadlineTest, ANonPrimaryForwardsTheTimestampAndWriteIdItMinted) {
  // A key n2 is not a primary of: it forwards, carrying what it minted.
  const std::string key =
      FirstKey("f", [](const std::vector<NodeId>& p) { return !Holds(p, "n2"); });
  Message m;
  PutRequest put;
  put.bucket = "b";
  put.key = key;
  put.value = "v";
  m.body = put;
  m.timeout_ms = 3000;
  service_->HandleClientRequest(std::move(m), [](Message) {});
  auto fwd = transport_.Of<PutRequest>();
  ASSERT_EQ(fwd.size(), 1u);
  const auto& sent = std::get<PutRequest>(fwd[0].message.body);
  EXPECT_TRUE(sent.forwarded);
  EXPECT_EQ(sent.timestamp_us, clock_.WallMicros());
  EXPECT_FALSE(sent.write_id.empty());
  EXPECT_EQ(fwd[0].message.sent_mono_us, clock_.MonoMicros());
  EXPECT_NE(fwd[0].message.sender_generation, 0u);
  // The forward times out on its slice; the next primary gets the very same
  // write, not a new one.
  scheduler_.Advance(1'100 * kMs);
  fwd = transport_.Of<PutRequest>();
  ASSERT_EQ(fwd.size(), 2u);
  const auto& retry = std::get<PutRequest>(fwd[1].message.body);
  EXPECT_NE(fwd[1].to, fwd[0].to);
  EXPECT_EQ(retry.timestamp_us, sent.timestamp_us);
  EXPECT_EQ(retry.write_id, sent.write_id);
}

}  // namespace
}  // namespace ringkv
