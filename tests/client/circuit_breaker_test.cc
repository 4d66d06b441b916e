// CircuitBreaker alone with a hand-driven clock, and the Client's use of
// it against scripted fake nodes: a node that keeps failing is skipped for
// a growing, capped back-off, then retried, while requests go to a live one.
#include "client/circuit_breaker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "client/client.h"
#include "tests/client/fake_node.h"

namespace ringkv::testing {
namespace {

using std::chrono::milliseconds;
using TimePoint = CircuitBreaker::TimePoint;

// A clock that moves only when the test says so.
struct ManualClock {
  TimePoint now{};
  std::function<TimePoint()> Fn() {
    return [this] { return now; };
  }
};

CircuitBreakerOptions Options(ManualClock* clock) {
  CircuitBreakerOptions options;
  options.failure_threshold = 3;
  options.initial_backoff = milliseconds(1000);
  options.max_backoff = milliseconds(30000);
  options.now = clock->Fn();
  return options;
}

TEST(CircuitBreakerTest, OpensAfterThresholdConsecutiveFailures) {
  ManualClock clock;
  CircuitBreaker breaker(Options(&clock));
  breaker.OnFailure();
  breaker.OnFailure();
  breaker.OnSuccess();  // not consecutive any more
  breaker.OnFailure();
  breaker.OnFailure();
  EXPECT_TRUE(breaker.Allow());
  EXPECT_EQ(breaker.state(), CircuitBreaker::State::kClosed);
  breaker.OnFailure();
  EXPECT_EQ(breaker.state(), CircuitBreaker::State::kOpen);
  EXPECT_FALSE(breaker.Allow());
  clock.now += milliseconds(999);
  EXPECT_FALSE(breaker.Allow());
  clock.now += milliseconds(1);
  EXPECT_TRUE(breaker.Allow());
  EXPECT_EQ(breaker.state(), CircuitBreaker::State::kHalfOpen);
  breaker.OnSuccess();
  EXPECT_EQ(breaker.state(), CircuitBreaker::State::kClosed);
  EXPECT_EQ(breaker.backoff(), milliseconds(1000));
}

TEST(CircuitBreakerTest, FailedProbesDoubleTheBackoffUpToTheCap) {
  ManualClock clock;
  CircuitBreaker breaker(Options(&clock));
  for (int i = 0; i < 3; ++i) breaker.OnFailure();
  const milliseconds expected[] = {milliseconds(1000),  milliseconds(2000),  milliseconds(4000),
                                   milliseconds(8000),  milliseconds(16000), milliseconds(30000),
                                   milliseconds(30000), milliseconds(30000)};
  for (milliseconds wait : expected) {
    ASSERT_EQ(breaker.state(), CircuitBreaker::State::kOpen);
    EXPECT_EQ(breaker.retry_at() - clock.now, wait);
    clock.now += wait - milliseconds(1);
    EXPECT_FALSE(breaker.Allow());
    clock.now += milliseconds(1);
    ASSERT_TRUE(breaker.Allow());
    breaker.OnFailure();  // the half-open probe fails: one failure reopens
  }
  // A success resets the back-off to its start.
  clock.now = breaker.retry_at();
  ASSERT_TRUE(breaker.Allow());
  breaker.OnSuccess();
  for (int i = 0; i < 3; ++i) breaker.OnFailure();
  EXPECT_EQ(breaker.retry_at() - clock.now, milliseconds(1000));
}

TEST(CircuitBreakerTest, ZeroThresholdNeverOpens) {
  ManualClock clock;
  CircuitBreakerOptions options = Options(&clock);
  options.failure_threshold = 0;
  CircuitBreaker breaker(options);
  for (int i = 0; i < 100; ++i) breaker.OnFailure();
  EXPECT_TRUE(breaker.Allow());
}

std::unique_ptr<Client> ConnectWithClock(std::vector<std::string> nodes, ManualClock* clock,
                                         uint32_t timeout_ms) {
  ClientOptions options;
  options.nodes = std::move(nodes);
  options.timeout_ms = timeout_ms;
  options.breaker = Options(clock);
  Result<std::unique_ptr<Client>> client = Client::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

TEST(ClientBreakerTest, RequestsLeaveANodeThatKeepsTimingOutForALiveOne) {
  ManualClock clock;
  // `silent` accepts connections and never answers (a paused node).
  FakeNode silent([](const Message&) { return std::vector<Message>{}; });
  FakeNode live([](const Message& m) { return std::vector<Message>{ReplyTo(m, Pong{"live"})}; });
  auto client = ConnectWithClock({silent.address(), live.address()}, &clock, 50);
  ASSERT_NE(client, nullptr);
  // A timeout does not move a request on (the deadline is spent), so the
  // first three fail at the silent node...
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(client->Ping().status().IsTimeout());
  EXPECT_EQ(silent.requests(), 3);
  EXPECT_EQ(client->breaker(silent.address())->state(), CircuitBreaker::State::kOpen);
  // ...and then its breaker is open: requests go to the live node.
  for (int i = 0; i < 5; ++i) {
    Result<std::string> pong = client->Ping();
    ASSERT_TRUE(pong.ok()) << pong.status().ToString();
    EXPECT_EQ(*pong, "live");
    EXPECT_EQ(client->last_node(), live.address());
  }
  EXPECT_EQ(silent.requests(), 3);
  EXPECT_EQ(live.requests(), 5);
}

TEST(ClientBreakerTest, AnAvoidedNodeIsRetriedAfterItsBackoffAndClosesOnSuccess) {
  ManualClock clock;
  std::atomic<bool> answer{false};
  FakeNode node([&](const Message& m) {
    if (!answer) return std::vector<Message>{};
    return std::vector<Message>{ReplyTo(m, Pong{"back"})};
  });
  auto client = ConnectWithClock({node.address()}, &clock, 50);
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(client->Ping().status().IsTimeout());
  // Open: fails at once with Unavailable, without asking the node.
  Result<std::string> fast = client->Ping();
  EXPECT_TRUE(fast.status().IsUnavailable()) << fast.status().ToString();
  EXPECT_EQ(node.requests(), 3);

  clock.now += milliseconds(1000);  // half-open: one probe, which times out
  EXPECT_TRUE(client->Ping().status().IsTimeout());
  EXPECT_EQ(node.requests(), 4);
  clock.now += milliseconds(1999);  // the back-off doubled to 2 s
  EXPECT_TRUE(client->Ping().status().IsUnavailable());
  EXPECT_EQ(node.requests(), 4);

  answer = true;
  clock.now += milliseconds(1);
  Result<std::string> pong = client->Ping();
  ASSERT_TRUE(pong.ok()) << pong.status().ToString();
  EXPECT_EQ(*pong, "back");
  EXPECT_EQ(client->breaker(node.address())->state(), CircuitBreaker::State::kClosed);
  EXPECT_TRUE(client->Ping().ok());
  EXPECT_EQ(node.requests(), 6);
}

TEST(ClientBreakerTest, UnavailableAnswersFromANodeDoNotCountAgainstIt) {
  ManualClock clock;
  FakeNode node([](const Message& m) {
    return std::vector<Message>{
        ReplyTo(m, GetReply{Status::Unavailable("1 of 2 required replicas answered"), false, {}})};
  });
  auto client = ConnectWithClock({node.address()}, &clock, 1000);
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(client->Get("b", "k").status().IsUnavailable());
  EXPECT_EQ(node.requests(), 5);
  EXPECT_EQ(client->breaker(node.address())->state(), CircuitBreaker::State::kClosed);
}

TEST(ClientStatusTest, StatusOfAsksExactlyThatNode) {
  NodeStatus status;
  status.node = "n2";
  status.incarnation = 0x1234abcd5678ef00ull;
  status.peers = {{"n1", true, 0.25}, {"n3", false, 12.5}};
  status.hints = {{"n3", 17}};
  status.hints_delivered = 40;
  status.ring_epoch = 3;
  status.hint_write_failures = 2;
  MetricSample requests;
  requests.name = "ringkv_requests_total";
  requests.value = 9;
  status.metrics = {requests};
  FakeNode first([](const Message& m) { return std::vector<Message>{ReplyTo(m, Pong{"n1"})}; });
  FakeNode second([&](const Message& m) -> std::vector<Message> {
    if (!std::holds_alternative<StatusRequest>(m.body)) return {};
    return {ReplyTo(m, status)};
  });
  ManualClock clock;
  auto client = ConnectWithClock({first.address(), second.address()}, &clock, 1000);
  ASSERT_NE(client, nullptr);
  Result<NodeView> got = client->StatusOf(second.address());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->node, "n2");
  EXPECT_EQ(got->incarnation, 0x1234abcd5678ef00ull);
  EXPECT_EQ(got->ring_epoch, 3u);
  EXPECT_EQ(got->peers, (std::vector<PeerView>{{"n1", true, 0.25}, {"n3", false, 12.5}}));
  EXPECT_EQ(got->hints, (std::vector<HintBacklog>{{"n3", 17}}));
  EXPECT_EQ(got->hints_delivered, 40u);
  EXPECT_EQ(got->hint_write_failures, 2u);
  ASSERT_EQ(got->metrics.size(), 1u);
  EXPECT_EQ(got->metrics[0].name, "ringkv_requests_total");
  EXPECT_EQ(got->metrics[0].value, 9);
  EXPECT_EQ(first.requests(), 0);
  EXPECT_TRUE(client->StatusOf("127.0.0.1:1").status().IsInvalidArgument());
  // A node answering something else is a corrupt reply.
  EXPECT_TRUE(client->StatusOf(first.address()).status().IsCorruption());
}

}  // namespace
}  // namespace ringkv::testing
