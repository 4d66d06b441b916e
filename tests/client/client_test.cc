// Client against a scripted fake node: reply mapping, typed errors,
// deadlines, request-id matching, failover and reconnection.
#include "client/client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "causality/object.h"
#include "causality/object_codec.h"
#include "tests/client/fake_node.h"

namespace ringkv::testing {
namespace {

using std::chrono::milliseconds;

// A 127.0.0.1 address on which nothing listens.
std::string ClosedAddress() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

std::unique_ptr<Client> ConnectTo(std::vector<std::string> nodes, uint32_t timeout_ms = 2000) {
  ClientOptions options;
  options.nodes = std::move(nodes);
  options.timeout_ms = timeout_ms;
  Result<std::unique_ptr<Client>> client = Client::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

// Two concurrent values and a tombstone from three coordinators.
Object ThreeSiblings() {
  Object o = Update(Object{}, VersionVector{}, Actor{"n1", 1}, 10, false, "milk");
  o = Sync(o, Update(Object{}, VersionVector{}, Actor{"n2", 1}, 11, false, "eggs"));
  return Sync(o, Update(Object{}, VersionVector{}, Actor{"n3", 1}, 12, true, ""));
}

ClientOptions Options(std::vector<std::string> nodes, uint32_t timeout_ms) {
  ClientOptions o;
  o.nodes = std::move(nodes);
  o.timeout_ms = timeout_ms;
  return o;
}

TEST(ClientTest, ConnectRejectsBadOptions) {
  EXPECT_TRUE(Client::Connect({}).status().IsInvalidArgument());
  EXPECT_TRUE(Client::Connect(Options({"localhost"}, 1000)).status().IsInvalidArgument());
  EXPECT_TRUE(Client::Connect(Options({"127.0.0.1:0"}, 1000)).status().IsInvalidArgument());
  EXPECT_TRUE(Client::Connect(Options({"127.0.0.1:7101"}, 0)).status().IsInvalidArgument());
}

TEST(ClientTest, ConnectWithNoNodeListeningIsUnavailable) {
  Result<std::unique_ptr<Client>> client =
      Client::Connect(Options({ClosedAddress(), ClosedAddress()}, 1000));
  EXPECT_TRUE(client.status().IsUnavailable()) << client.status().ToString();
}

TEST(ClientTest, GetReturnsValueSiblingsAndContext) {
  const Object object = ThreeSiblings();
  GetRequest seen;
  uint32_t seen_timeout = 0;
  FakeNode node([&](const Message& m) -> std::vector<Message> {
    seen = std::get<GetRequest>(m.body);
    seen_timeout = m.timeout_ms;
    return {ReplyTo(m, GetReply{Status::OK(), true, object})};
  });
  auto client = ConnectTo({node.address()});
  ASSERT_NE(client, nullptr);
  Result<GetResult> got = client->Get("cart", "alice", {.r = 3, .pr = 1, .timeout_ms = 1234});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->found);
  EXPECT_EQ(got->values, (std::vector<std::string>{"milk", "eggs"}));
  EXPECT_EQ(got->context, EncodeContext(object.context, "cart", "alice"));
  EXPECT_EQ(seen.bucket, "cart");
  EXPECT_EQ(seen.key, "alice");
  EXPECT_EQ(seen.r, 3u);
  EXPECT_EQ(seen.pr, 1u);
  // The node is told the time left when the request left: the timeout less
  // the connect (generous margin for a loaded machine).
  EXPECT_LE(seen_timeout, 1234u);
  EXPECT_GT(seen_timeout, 1234u - 500);
  EXPECT_EQ(client->last_node(), node.address());
}

TEST(ClientTest, DeletedOrMissingKeyIsNotFoundButKeepsTheContext) {
  const Object deleted = Update(Object{}, VersionVector{}, Actor{"n1", 1}, 5, true, "");
  bool missing = false;
  FakeNode node([&](const Message& m) -> std::vector<Message> {
    if (missing) return {ReplyTo(m, GetReply{Status::NotFound(), false, Object{}})};
    return {ReplyTo(m, GetReply{Status::OK(), true, deleted})};
  });
  auto client = ConnectTo({node.address()});
  Result<GetResult> got = client->Get("b", "k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(got->found);
  EXPECT_TRUE(got->values.empty());
  EXPECT_EQ(got->context, EncodeContext(deleted.context, "b", "k"));
  missing = true;
  got = client->Get("b", "k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(got->found);
}

TEST(ClientTest, NodeErrorsKeepTheirCode) {
  FakeNode node([](const Message& m) -> std::vector<Message> {
    if (std::holds_alternative<GetRequest>(m.body)) {
      return {ReplyTo(
          m, GetReply{Status::Unavailable("1 of 2 required replicas answered"), false, Object{}})};
    }
    if (std::get<PutRequest>(m.body).tombstone) {
      return {ReplyTo(m, ErrorReply{Status::InvalidArgument("w=4 exceeds n=3")})};
    }
    return {ReplyTo(m, PutReply{Status::Timeout("deadline passed"), Object{}})};
  });
  auto client = ConnectTo({node.address()});
  Result<GetResult> got = client->Get("b", "k");
  EXPECT_TRUE(got.status().IsUnavailable());
  EXPECT_EQ(got.status().message(), "1 of 2 required replicas answered");
  EXPECT_TRUE(client->Put("b", "k", "v").status().IsTimeout());
  WriteOptions with_context;
  with_context.context = EncodeContext(ThreeSiblings().context, "b", "k");
  EXPECT_TRUE(client->Delete("b", "k", with_context).status().IsInvalidArgument());
  // Without a context, Delete reads first, and the read's error is the answer.
  EXPECT_TRUE(client->Delete("b", "k").status().IsUnavailable());
}

TEST(ClientTest, PutAndDeleteSendContextAndQuorumsAndReturnTheNewContext) {
  const Object stored = Update(Object{}, VersionVector{}, Actor{"n2", 7}, 5, false, "v");
  const Object current = ThreeSiblings();
  std::vector<PutRequest> seen;
  FakeNode node([&](const Message& m) -> std::vector<Message> {
    if (std::holds_alternative<GetRequest>(m.body)) {
      return {ReplyTo(m, GetReply{Status::OK(), true, current})};
    }
    seen.push_back(std::get<PutRequest>(m.body));
    return {ReplyTo(m, PutReply{Status::OK(), stored})};
  });
  auto client = ConnectTo({node.address()});
  const std::string context = EncodeContext(current.context, "b", "k");
  Result<PutResult> put =
      client->Put("b", "k", "v", {.w = kQuorumAll, .pw = 1, .timeout_ms = 0, .context = context});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->context, EncodeContext(stored.context, "b", "k"));
  WriteOptions quorum;
  quorum.w = kQuorumQuorum;
  Result<PutResult> del = client->Delete("b", "k", quorum);
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].value, "v");
  EXPECT_FALSE(seen[0].tombstone);
  EXPECT_EQ(seen[0].context, context);
  EXPECT_EQ(seen[0].w, kQuorumAll);
  EXPECT_EQ(seen[0].pw, 1u);
  EXPECT_TRUE(seen[1].tombstone);
  // A delete without a context deletes what a read saw.
  EXPECT_EQ(seen[1].context, EncodeContext(current.context, "b", "k"));
  EXPECT_EQ(seen[1].w, kQuorumQuorum);
}

TEST(ClientTest, MalformedContextIsRefusedBeforeSending) {
  FakeNode node([](const Message& m) -> std::vector<Message> { return {}; });
  auto client = ConnectTo({node.address()});
  WriteOptions options;
  options.context = "not a context";
  EXPECT_TRUE(client->Put("b", "k", "v", options).status().IsInvalidArgument());
  EXPECT_EQ(node.requests(), 0);
}

TEST(ClientTest, SilentNodeTimesOutAtTheDeadline) {
  FakeNode node([](const Message& m) -> std::vector<Message> { return {}; });
  auto client = ConnectTo({node.address()});
  const auto start = std::chrono::steady_clock::now();
  Result<GetResult> got = client->Get("b", "k", {.timeout_ms = 300});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(got.status().IsTimeout()) << got.status().ToString();
  EXPECT_GE(elapsed, milliseconds(300));
  EXPECT_LT(elapsed, milliseconds(300 + 1500));
}

TEST(ClientTest, LateRepliesToEarlierRequestsAreSkipped) {
  FakeNode node([](const Message& m) -> std::vector<Message> {
    Message stale = ReplyTo(m, Pong{"stale"});
    stale.request_id = m.request_id + 1000;
    return {stale, ReplyTo(m, Pong{"fresh"})};
  });
  auto client = ConnectTo({node.address()});
  Result<std::string> pong = client->Ping();
  ASSERT_TRUE(pong.ok()) << pong.status().ToString();
  EXPECT_EQ(*pong, "fresh");
}

TEST(ClientTest, UnexpectedReplyTypeIsCorruption) {
  FakeNode node([](const Message& m) -> std::vector<Message> { return {ReplyTo(m, Pong{"x"})}; });
  auto client = ConnectTo({node.address()});
  EXPECT_TRUE(client->Get("b", "k").status().IsCorruption());
}

TEST(ClientTest, MovesOnToTheNextNodeWhenOneCannotBeReached) {
  FakeNode node([](const Message& m) -> std::vector<Message> { return {ReplyTo(m, Pong{"n2"})}; });
  auto client = ConnectTo({ClosedAddress(), node.address()});
  Result<std::string> pong = client->Ping();
  ASSERT_TRUE(pong.ok()) << pong.status().ToString();
  EXPECT_EQ(*pong, "n2");
  EXPECT_EQ(client->last_node(), node.address());
}

TEST(ClientTest, ReconnectsAfterTheNodeClosedTheConnection) {
  FakeNode node([](const Message& m) -> std::vector<Message> { return {ReplyTo(m, Pong{"n1"})}; });
  auto client = ConnectTo({node.address()});
  node.DropConnectionAfterReply();
  ASSERT_TRUE(client->Ping().ok());
  Result<std::string> again = client->Ping();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(node.connections(), 2);
}

TEST(ClientTest, CreateChecksTheOptionsAndConnectsOnlyForARequest) {
  EXPECT_TRUE(Client::Create({}).status().IsInvalidArgument());
  EXPECT_TRUE(Client::Create(Options({"localhost"}, 1000)).status().IsInvalidArgument());
  EXPECT_TRUE(Client::Create(Options({"127.0.0.1:7101"}, 0)).status().IsInvalidArgument());

  FakeNode node([](const Message& m) -> std::vector<Message> { return {ReplyTo(m, Pong{"n1"})}; });
  Result<std::unique_ptr<Client>> client = Client::Create(Options({node.address()}, 1000));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ(node.connections(), 0);
  ASSERT_TRUE((*client)->Ping().ok());
  EXPECT_EQ(node.connections(), 1);

  Result<std::unique_ptr<Client>> nobody = Client::Create(Options({ClosedAddress()}, 1000));
  ASSERT_TRUE(nobody.ok()) << nobody.status().ToString();
  EXPECT_TRUE((*nobody)->Ping().status().IsUnavailable());
}

// An address that swallows the connection request gets only its share of
// the deadline (half, with one node after it); the next node is asked in the
// time left and told that time.
TEST(ClientTest, ASwallowedConnectLeavesTimeForTheNextNode) {
  SwallowingListener swallowing;
  std::atomic<uint32_t> told{0};
  FakeNode node([&told](const Message& m) -> std::vector<Message> {
    told = m.timeout_ms;
    return {ReplyTo(m, Pong{"n2"})};
  });
  Result<std::unique_ptr<Client>> client =
      Client::Create(Options({swallowing.address(), node.address()}, 1000));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const auto start = std::chrono::steady_clock::now();
  Result<std::string> pong = (*client)->Ping();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(pong.ok()) << pong.status().ToString();
  EXPECT_EQ(*pong, "n2");
  EXPECT_GE(elapsed, milliseconds(500));
  EXPECT_LT(elapsed, milliseconds(1000));
  EXPECT_LE(told.load(), 500u);
  EXPECT_GT(told.load(), 0u);
}

// Connecting, moving on and waiting share one deadline: through an address
// that swallows connects and then a node that accepts but never answers (a
// paused node), the call ends at its timeout plus kReplyGrace.
TEST(ClientTest, NoCallOutlastsItsTimeoutPlusTheGrace) {
  SwallowingListener swallowing;
  FakeNode silent([](const Message&) -> std::vector<Message> { return {}; });
  Result<std::unique_ptr<Client>> client =
      Client::Create(Options({swallowing.address(), silent.address()}, 600));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const auto start = std::chrono::steady_clock::now();
  Result<GetResult> got = (*client)->Get("b", "k");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(got.status().IsTimeout()) << got.status().ToString();
  EXPECT_EQ(silent.requests(), 1);
  EXPECT_GE(elapsed, milliseconds(600) + kReplyGrace);
  // Margin for a loaded machine; the old separate budgets took 1.6 s.
  EXPECT_LT(elapsed, milliseconds(600) + kReplyGrace + milliseconds(300));
}

// Delete without a context reads first; the write gets only what the read
// left of the one deadline.
TEST(ClientTest, DeleteReadsAndWritesWithinOneDeadline) {
  std::atomic<uint32_t> put_told{0};
  FakeNode node([&put_told](const Message& m) -> std::vector<Message> {
    if (std::holds_alternative<GetRequest>(m.body)) {
      // A slow node: the read's answer takes 300 ms.
      std::this_thread::sleep_for(milliseconds(300));
      return {ReplyTo(m, GetReply{Status::OK(), true, ThreeSiblings()})};
    }
    put_told = m.timeout_ms;
    return {ReplyTo(m, PutReply{Status::OK(), ThreeSiblings()})};
  });
  auto client = ConnectTo({node.address()}, 1000);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Delete("b", "k").ok());
  EXPECT_LE(put_told.load(), 700u);
  EXPECT_GT(put_told.load(), 0u);
}

}  // namespace
}  // namespace ringkv::testing
