// PeerRpc: ids, pending calls and their deadlines, reply routing and
// handler dispatch, in one place.
#include "rpc/peer_rpc.h"

#include <gtest/gtest.h>

#include <optional>

#include "tests/testing/fake_env.h"

namespace ringkv {
namespace {

using testing::ManualClock;
using testing::ManualScheduler;
using testing::RecordingTransport;

constexpr int64_t kMs = 1000;

class PeerRpcTest : public ::testing::Test {
 protected:
  PeerRpcTest()
      : scheduler_(&clock_), rpc_("n1", 11, &clock_, &scheduler_, &transport_, &random_, &metrics_) {}

  // A message from `from` as the transport would deliver it, stamped as
  // written just now by a peer whose clock agrees with ours.
  Message From(const NodeId& from, uint64_t id, MessageBody body, uint32_t timeout_ms = 0) {
    Message m;
    m.from = from;
    m.request_id = id;
    m.timeout_ms = timeout_ms;
    m.body = std::move(body);
    m.sender_generation = 3;
    m.sent_mono_us = clock_.MonoMicros();
    return m;
  }

  ManualClock clock_;
  ManualScheduler scheduler_;
  RecordingTransport transport_;
  Random random_{7};
  MetricsRegistry metrics_;
  PeerRpc rpc_;
};

TEST_F(PeerRpcTest, ReplyReachesItsCallOnce) {
  std::vector<Result<MessageBody>> answers;
  rpc_.Call("n2", Ping{}, clock_.MonoMicros() + 100 * kMs,
            [&](Result<MessageBody> r) { answers.push_back(std::move(r)); });
  ASSERT_EQ(transport_.sent().size(), 1u);
  const Message& sent = transport_.sent()[0].message;
  EXPECT_EQ(sent.from, "n1");
  EXPECT_EQ(sent.timeout_ms, 100u);
  EXPECT_EQ(sent.sender_generation, 11u);
  rpc_.OnMessage(From("n2", sent.request_id, Pong{"n2"}));
  rpc_.OnMessage(From("n2", sent.request_id, Pong{"n2"}));  // duplicated by the network
  ASSERT_EQ(answers.size(), 1u);
  ASSERT_TRUE(answers[0].ok());
  EXPECT_EQ(std::get<Pong>(*answers[0]).node, "n2");
  EXPECT_EQ(rpc_.counters().late_replies, 1u);
  EXPECT_EQ(rpc_.pending(), 0u);
}

TEST_F(PeerRpcTest, NoReplyMeansTimeoutAtTheDeadlineAndALateReplyIsDropped) {
  std::optional<Result<MessageBody>> answer;
  rpc_.Call("n2", Ping{}, clock_.MonoMicros() + 50 * kMs,
            [&](Result<MessageBody> r) { answer = std::move(r); });
  scheduler_.Advance(49 * kMs);
  EXPECT_FALSE(answer.has_value());
  scheduler_.Advance(1 * kMs);
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(answer->status().IsTimeout());
  rpc_.OnMessage(From("n2", transport_.sent()[0].message.request_id, Pong{"n2"}));
  EXPECT_EQ(rpc_.counters().late_replies, 1u);
  EXPECT_EQ(rpc_.counters().call_timeouts, 1u);
}

TEST_F(PeerRpcTest, ManyCallsShareOneTimerAndExpireInDeadlineOrder) {
  std::vector<int> order;
  for (int i : {3, 1, 2}) {
    rpc_.Call("n2", Ping{}, clock_.MonoMicros() + i * 10 * kMs,
              [&order, i](Result<MessageBody>) { order.push_back(i); });
  }
  EXPECT_EQ(scheduler_.pending(), 1u);
  scheduler_.Advance(100 * kMs);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST_F(PeerRpcTest, AnsweredCallsLeaveNoTimeoutBehindAndALiveOneStillExpires) {
  // One call nobody answers, then many answered or cancelled ones around it,
  // some with earlier deadlines: only the silent one times out, on time.
  std::optional<Result<MessageBody>> silent;
  rpc_.Call("n2", Ping{}, clock_.MonoMicros() + 40 * kMs,
            [&](Result<MessageBody> r) { silent = std::move(r); });
  int answered = 0, late = 0;
  for (int i = 0; i < 500; ++i) {
    const int64_t deadline = clock_.MonoMicros() + (i % 2 == 0 ? 10 : 80) * kMs;
    PeerRpc::CallId id = rpc_.Call("n2", Ping{}, deadline, [&](Result<MessageBody> r) {
      if (r.ok())
        ++answered;
      else
        ++late;
    });
    if (i % 5 == 4) {
      rpc_.Cancel(id);
    } else {
      rpc_.OnMessage(From("n2", transport_.sent().back().message.request_id, Pong{"n2"}));
    }
  }
  EXPECT_EQ(answered, 400);
  EXPECT_EQ(rpc_.pending(), 1u);
  scheduler_.Advance(39 * kMs);
  EXPECT_FALSE(silent.has_value());
  scheduler_.Advance(1 * kMs);
  ASSERT_TRUE(silent.has_value());
  EXPECT_TRUE(silent->status().IsTimeout());
  scheduler_.Advance(100 * kMs);
  EXPECT_EQ(late, 0);
  EXPECT_EQ(rpc_.counters().call_timeouts, 1u);
  EXPECT_EQ(rpc_.pending(), 0u);
  EXPECT_EQ(scheduler_.pending(), 0u);
}

TEST_F(PeerRpcTest, ErrorReplyBecomesItsStatusAndCancelSilencesACall) {
  std::optional<Result<MessageBody>> answer;
  bool cancelled_called = false;
  rpc_.Call("n2", Ping{}, clock_.MonoMicros() + 50 * kMs,
            [&](Result<MessageBody> r) { answer = std::move(r); });
  PeerRpc::CallId other = rpc_.Call("n3", Ping{}, clock_.MonoMicros() + 50 * kMs,
                                    [&](Result<MessageBody>) { cancelled_called = true; });
  rpc_.Cancel(other);
  rpc_.OnMessage(
      From("n2", transport_.sent()[0].message.request_id, ErrorReply{Status::Busy("try later")}));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status().code(), Status::Code::kBusy);
  scheduler_.Advance(100 * kMs);
  EXPECT_FALSE(cancelled_called);
}

TEST_F(PeerRpcTest, CallsToAPeerNoConnectionReachesFailOnTheNextTurnNotAtTheirDeadline) {
  std::vector<std::pair<std::string, Result<MessageBody>>> answers;
  auto record = [&](std::string name) {
    return [&answers, name](Result<MessageBody> r) { answers.emplace_back(name, std::move(r)); };
  };
  const int64_t deadline = clock_.MonoMicros() + 50 * kMs;
  rpc_.Call("n2", Ping{}, deadline, record("before"));
  rpc_.Call("n3", Ping{}, deadline, record("other peer"));
  transport_.Unreachable("n2");
  EXPECT_TRUE(answers.empty()) << "never from inside the transport's notice";
  rpc_.Call("n2", Ping{}, deadline, record("while unreachable"));
  EXPECT_TRUE(answers.empty()) << "never from inside Call";
  scheduler_.Advance(0);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].first, "before");
  EXPECT_EQ(answers[1].first, "while unreachable");
  for (const auto& [name, answer] : answers) {
    EXPECT_TRUE(answer.status().IsUnavailable()) << name;
    EXPECT_EQ(answer.status().message(), "no connection to n2") << name;
  }
  EXPECT_EQ(rpc_.counters().link_failures, 2u);
  EXPECT_EQ(rpc_.counters().call_timeouts, 0u);
  EXPECT_EQ(rpc_.pending(), 1u) << "the call to n3 still waits";
  scheduler_.Advance(50 * kMs);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_TRUE(answers[2].second.status().IsTimeout());
}

TEST_F(PeerRpcTest, CallsToAnUnreachablePeerAreFailedInOnePassPerTurn) {
  // The transport tells of the link on every message it drops: a hundred
  // calls are a hundred notices, and still one pass over the pending calls.
  transport_.Unreachable("n2");
  int failed = 0;
  for (int i = 0; i < 100; ++i) {
    rpc_.Call("n2", Ping{}, clock_.MonoMicros() + 50 * kMs, [&](Result<MessageBody> r) {
      if (r.status().IsUnavailable()) ++failed;
    });
  }
  EXPECT_EQ(scheduler_.pending(), 2u) << "the deadline timer and one pass";
  scheduler_.Advance(0);
  EXPECT_EQ(failed, 100);
  EXPECT_EQ(rpc_.counters().link_failures, 100u);
  EXPECT_EQ(rpc_.pending(), 0u);
}

TEST_F(PeerRpcTest, AReplyFromAnotherNodeThanTheCalleeAnswersNothing) {
  bool answered = false;
  rpc_.Call("n2", Ping{}, clock_.MonoMicros() + 50 * kMs,
            [&](Result<MessageBody>) { answered = true; });
  rpc_.OnMessage(From("n3", transport_.sent()[0].message.request_id, Pong{"n3"}));
  EXPECT_FALSE(answered);
  EXPECT_EQ(rpc_.counters().late_replies, 1u);
}

TEST_F(PeerRpcTest, RequestsGoToTheirHandlerWithTheirDeadline) {
  int64_t seen_deadline = 0;
  rpc_.Serve<Ping>([&](const PeerRpc::Request& r, Ping&, PeerRpc::Respond respond) {
    EXPECT_EQ(r.from, "n2");
    seen_deadline = r.deadline_us;
    respond(Pong{"n1"});
  });
  rpc_.OnMessage(From("n2", 42, Ping{}, 300));
  EXPECT_EQ(seen_deadline, clock_.MonoMicros() + 300 * kMs);
  ASSERT_EQ(transport_.sent().size(), 1u);
  EXPECT_EQ(transport_.sent()[0].to, "n2");
  EXPECT_EQ(transport_.sent()[0].message.request_id, 42u);
  EXPECT_TRUE(std::holds_alternative<Pong>(transport_.sent()[0].message.body));
}

TEST_F(PeerRpcTest, ARequestThatExpiredOnTheWayNeverReachesItsHandler) {
  int handled = 0;
  rpc_.Serve<Ping>([&](const PeerRpc::Request&, Ping&, PeerRpc::Respond) { ++handled; });
  rpc_.OnMessage(From("n2", 1, Ping{}, 300));  // learns n2's clock
  clock_.Set(clock_.MonoMicros() + 2'000 * kMs);
  Message stale = From("n2", 2, Ping{}, 300);
  stale.sent_mono_us -= 1'000 * kMs;  // written a second ago, 300 ms to live
  rpc_.OnMessage(std::move(stale));
  EXPECT_EQ(handled, 1);
  EXPECT_EQ(rpc_.counters().expired_requests, 1u);
  const Message& refusal = transport_.sent().back().message;
  EXPECT_EQ(refusal.request_id, 2u);
  EXPECT_TRUE(std::get<ErrorReply>(refusal.body).status.IsTimeout());
}

TEST_F(PeerRpcTest, UnservedRequestTypesAreRefusedAndClientMessagesIgnored) {
  rpc_.OnMessage(From("n2", 5, ReplicaGetRequest{"b", "k"}));
  EXPECT_EQ(rpc_.counters().unhandled, 1u);
  EXPECT_TRUE(std::get<ErrorReply>(transport_.sent().back().message.body)
                  .status.IsInvalidArgument());
  Message client;  // no `from`: not a peer's
  client.request_id = 6;
  client.body = Ping{};
  rpc_.OnMessage(std::move(client));
  EXPECT_EQ(transport_.sent().size(), 1u);
}

TEST_F(PeerRpcTest, OneWayMessagesReachTheirListenerWithoutAReply) {
  int heard = 0;
  rpc_.Listen<Gossip>([&](const NodeId& from, Gossip& g) {
    EXPECT_EQ(from, "n2");
    EXPECT_EQ(g.ring_epoch, 4u);
    ++heard;
  });
  rpc_.OnMessage(From("n2", 0, Gossip{4, {}}));
  EXPECT_EQ(heard, 1);
  EXPECT_TRUE(transport_.sent().empty());
  rpc_.Post("n3", Gossip{5, {}});
  ASSERT_EQ(transport_.sent().size(), 1u);
  EXPECT_EQ(transport_.sent()[0].message.request_id, 0u);
}

}  // namespace
}  // namespace ringkv
