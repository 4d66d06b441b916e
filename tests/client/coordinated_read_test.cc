// Client-coordinated reads (ClientOptions::coordinate_reads) against three
// scripted fake nodes: ring fetch, fan-out, quorum, merge, LWW and the
// read-repair request.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "causality/object.h"
#include "client/client.h"
#include "tests/client/fake_node.h"

namespace ringkv::testing {
namespace {

// Three fake replicas n1..n3 of a ring with n=3 (so every key lives on all
// three); each answers ReplicaGet with its scripted object, or not at all.
class ThreeReplicas {
 public:
  ThreeReplicas() {
    for (size_t i = 0; i < 3; ++i) {
      nodes_[i] = std::make_unique<FakeNode>([this, i](const Message& m) { return Handle(i, m); });
    }
  }
  // nullopt: the replica stays silent; else its answer (found iff an object).
  void Script(size_t i, std::optional<std::optional<Object>> answer) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_[i] = std::move(answer);
  }
  std::vector<std::string> addresses() const {
    return {nodes_[0]->address(), nodes_[1]->address(), nodes_[2]->address()};
  }
  // The ring names `address` for replica i instead of its fake.
  void SetMemberAddress(size_t i, std::string address) {
    std::lock_guard<std::mutex> lock(mu_);
    member_addresses_[i] = std::move(address);
  }
  // The ring's answer takes this long (a slow node).
  void SetRingDelay(std::chrono::milliseconds delay) { ring_delay_ = delay; }
  // The largest timeout a ReplicaGet carried.
  uint32_t max_replica_timeout_ms() const { return max_replica_timeout_ms_.load(); }
  int ring_requests() const { return ring_requests_.load(); }
  int get_requests() const { return get_requests_.load(); }
  int replica_gets() const { return replica_gets_.load(); }

 private:
  std::vector<Message> Handle(size_t i, const Message& m) {
    if (std::holds_alternative<RingRequest>(m.body)) {
      ++ring_requests_;
      std::this_thread::sleep_for(ring_delay_.load());
      RingInfo info;
      info.epoch = 1;
      info.partitions = 64;
      info.n = 3;
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t j = 0; j < 3; ++j) {
        const std::string& address =
            member_addresses_[j].empty() ? nodes_[j]->address() : member_addresses_[j];
        info.members.push_back({"n" + std::to_string(j + 1), address});
      }
      info.default_bucket = BucketInfo{"", 3, 2, 2, "siblings"};
      info.buckets.push_back(BucketInfo{"lww", 3, 2, 2, "lww"});
      return {ReplyTo(m, info)};
    }
    if (std::holds_alternative<ReplicaGetRequest>(m.body)) {
      ++replica_gets_;
      uint32_t seen = max_replica_timeout_ms_.load();
      while (m.timeout_ms > seen &&
             !max_replica_timeout_ms_.compare_exchange_weak(seen, m.timeout_ms)) {
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (!answers_[i].has_value()) return {};
      const std::optional<Object>& held = *answers_[i];
      return {ReplyTo(m, ReplicaGetReply{Status::OK(), held.has_value(), held.value_or(Object{})})};
    }
    if (std::holds_alternative<GetRequest>(m.body)) {
      ++get_requests_;
      return {ReplyTo(m, GetReply{Status::OK(), false, Object{}})};
    }
    return {ReplyTo(m, ErrorReply{Status::InvalidArgument("unexpected")})};
  }

  std::array<std::unique_ptr<FakeNode>, 3> nodes_;
  std::mutex mu_;
  std::array<std::optional<std::optional<Object>>, 3> answers_;
  std::array<std::string, 3> member_addresses_;
  std::atomic<std::chrono::milliseconds> ring_delay_{std::chrono::milliseconds(0)};
  std::atomic<uint32_t> max_replica_timeout_ms_{0};
  std::atomic<int> ring_requests_{0}, get_requests_{0}, replica_gets_{0};
};

std::unique_ptr<Client> CoordinatingClient(const ThreeReplicas& fakes) {
  ClientOptions options;
  options.nodes = fakes.addresses();
  options.timeout_ms = 2000;
  options.coordinate_reads = true;
  Result<std::unique_ptr<Client>> client = Client::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

Object Written(const std::string& node, int64_t ts, const std::string& value) {
  return Update(Object{}, VersionVector{}, Actor{node, 1}, ts, false, value);
}

// Polls until `done` or 2 s pass.
template <typename F>
bool Eventually(F done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(CoordinatedReadTest, AgreeingReplicasAnswerWithoutANodeCoordinator) {
  ThreeReplicas fakes;
  const Object milk = Written("n1", 10, "milk");
  for (size_t i = 0; i < 3; ++i) fakes.Script(i, std::optional<Object>(milk));
  auto client = CoordinatingClient(fakes);
  ASSERT_NE(client, nullptr);
  for (int k = 0; k < 2; ++k) {
    Result<GetResult> got = client->Get("b", "k");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(got->found);
    EXPECT_EQ(got->values, std::vector<std::string>{"milk"});
    EXPECT_FALSE(got->context.empty());
  }
  EXPECT_EQ(fakes.ring_requests(), 1);  // fetched once, then reused
  EXPECT_EQ(fakes.get_requests(), 0);   // no node coordinated, no repair
  EXPECT_TRUE(Eventually([&] { return fakes.replica_gets() == 6; }));
}

TEST(CoordinatedReadTest, MergesDivergentAnswersAndAsksForRepair) {
  ThreeReplicas fakes;
  fakes.Script(0, std::optional<Object>(Written("n1", 10, "milk")));
  fakes.Script(1, std::optional<Object>(Written("n2", 11, "eggs")));
  fakes.Script(2, std::nullopt);  // silent: R=2 is met by the other two
  auto client = CoordinatingClient(fakes);
  ASSERT_NE(client, nullptr);
  Result<GetResult> got = client->Get("b", "k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->found);
  std::vector<std::string> values = got->values;
  std::sort(values.begin(), values.end());
  EXPECT_EQ(values, (std::vector<std::string>{"eggs", "milk"}));
  EXPECT_TRUE(Eventually([&] { return fakes.get_requests() == 1; }));
}

TEST(CoordinatedReadTest, MissingReplicaCountsAsAnAnswerAndTriggersRepair) {
  ThreeReplicas fakes;
  fakes.Script(0, std::optional<Object>(Written("n1", 10, "milk")));
  fakes.Script(1, std::optional<Object>());  // answers "not found"
  fakes.Script(2, std::optional<Object>());
  auto client = CoordinatingClient(fakes);
  ASSERT_NE(client, nullptr);
  ReadOptions all;
  all.r = kQuorumAll;
  Result<GetResult> got = client->Get("b", "k", all);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->found);
  EXPECT_EQ(got->values, std::vector<std::string>{"milk"});
  EXPECT_TRUE(Eventually([&] { return fakes.get_requests() == 1; }));
}

TEST(CoordinatedReadTest, TooFewAnswersIsUnavailableWithTheCount) {
  ThreeReplicas fakes;
  fakes.Script(0, std::optional<Object>(Written("n1", 10, "milk")));
  fakes.Script(1, std::nullopt);
  fakes.Script(2, std::nullopt);
  auto client = CoordinatingClient(fakes);
  ASSERT_NE(client, nullptr);
  ReadOptions options;
  options.timeout_ms = 200;
  Result<GetResult> got = client->Get("b", "k", options);
  ASSERT_TRUE(got.status().IsUnavailable()) << got.status().ToString();
  EXPECT_EQ(got.status().message(), "1 of 2 required replicas answered");
}

TEST(CoordinatedReadTest, RAboveNIsInvalid) {
  ThreeReplicas fakes;
  auto client = CoordinatingClient(fakes);
  ASSERT_NE(client, nullptr);
  ReadOptions options;
  options.r = 4;
  EXPECT_TRUE(client->Get("b", "k", options).status().IsInvalidArgument());
}

TEST(CoordinatedReadTest, LwwBucketResolvesToTheLatestWrite) {
  ThreeReplicas fakes;
  fakes.Script(0, std::optional<Object>(Written("n1", 10, "old")));
  fakes.Script(1, std::optional<Object>(Written("n2", 20, "new")));
  fakes.Script(2, std::optional<Object>(Written("n3", 15, "mid")));
  auto client = CoordinatingClient(fakes);
  ASSERT_NE(client, nullptr);
  ReadOptions all;
  all.r = kQuorumAll;
  Result<GetResult> got = client->Get("lww", "k", all);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->values, std::vector<std::string>{"new"});
}

TEST(CoordinatedReadTest, TombstoneReadsAsNotFoundWithAContext) {
  ThreeReplicas fakes;
  const Object gone = Update(Object{}, VersionVector{}, Actor{"n1", 1}, 10, true, "");
  for (size_t i = 0; i < 3; ++i) fakes.Script(i, std::optional<Object>(gone));
  auto client = CoordinatingClient(fakes);
  ASSERT_NE(client, nullptr);
  Result<GetResult> got = client->Get("b", "k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(got->found);
  EXPECT_TRUE(got->values.empty());
  EXPECT_FALSE(got->context.empty());
}

// The ring fetch is part of the read's deadline: the replicas are told
// what it left.
TEST(CoordinatedReadTest, RingFetchAndReplicaReadsShareOneDeadline) {
  ThreeReplicas fakes;
  const Object milk = Written("n1", 10, "milk");
  for (size_t i = 0; i < 3; ++i) fakes.Script(i, std::optional<Object>(milk));
  fakes.SetRingDelay(std::chrono::milliseconds(300));
  auto client = CoordinatingClient(fakes);
  ASSERT_NE(client, nullptr);
  ReadOptions options;
  options.timeout_ms = 1000;
  Result<GetResult> got = client->Get("b", "k", options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_LE(fakes.max_replica_timeout_ms(), 700u);
  EXPECT_GT(fakes.max_replica_timeout_ms(), 0u);
}

// A replica whose address swallows connection requests costs the read a
// share of its deadline, not all of it: the other two answer R=2 in time.
TEST(CoordinatedReadTest, ASwallowedReplicaConnectLeavesTimeForTheOthers) {
  ThreeReplicas fakes;
  SwallowingListener swallowing;
  const Object milk = Written("n1", 10, "milk");
  for (size_t i = 0; i < 3; ++i) fakes.Script(i, std::optional<Object>(milk));
  fakes.SetMemberAddress(2, swallowing.address());
  auto client = CoordinatingClient(fakes);
  ASSERT_NE(client, nullptr);
  ReadOptions options;
  options.timeout_ms = 1000;
  const auto start = std::chrono::steady_clock::now();
  Result<GetResult> got = client->Get("b", "k", options);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->values, std::vector<std::string>{"milk"});
  EXPECT_LT(elapsed, std::chrono::milliseconds(1000));
}

}  // namespace
}  // namespace ringkv::testing
