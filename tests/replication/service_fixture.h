// A Service as n2 of a five-node ring (N=3) on tests/testing/fake_env.h:
// the test plays the clients and every other node, and reads back what n2
// stored.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/hash.h"
#include "common/metrics.h"
#include "common/random.h"
#include "replication/service.h"
#include "storage/memory_storage.h"
#include "tests/testing/fake_env.h"

namespace ringkv::testing {

class ServiceFixture : public ::testing::Test {
 public:
  static constexpr uint64_t kIncarnation = 9;

 protected:
  ServiceFixture() : scheduler_(&clock_) {
    ServiceOptions options;
    options.self = "n2";
    options.incarnation = kIncarnation;
    options.failure_detection = false;
    options.buckets = BucketTable(BucketProps{});
    service_.emplace(std::move(options), ring_,
                     ServiceEnv{&clock_, &scheduler_, &transport_, &storage_, &random_, nullptr,
                                nullptr, &metrics_});
    EXPECT_TRUE(service_->Start().ok());
  }

  static Ring MakeRing() {
    Result<Ring> ring = Ring::Create({"n1", "n2", "n3", "n4", "n5"}, 64, 3);
    EXPECT_TRUE(ring.ok());
    return std::move(ring).value();
  }

  static bool Holds(const std::vector<NodeId>& nodes, const NodeId& node) {
    return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
  }

  // The first key of bucket "b", `prefix` then a number, whose primaries
  // satisfy `wanted`.
  std::string FirstKey(const std::string& prefix,
                       const std::function<bool(const std::vector<NodeId>&)>& wanted) const {
    for (int i = 0;; ++i) {
      std::string key = prefix + std::to_string(i);
      if (wanted(ring_.PrimariesFor(KeyHash("b", key), 3))) return key;
    }
  }

  // Ends the loop turn: the turn's group commit is written and its writes
  // answered (replication/object_store.h).
  void EndTurn() { scheduler_.Advance(0); }

  // What n2 stores for b/`key`, asked as a client coordinating its own read.
  std::optional<Object> Local(const std::string& key) {
    std::optional<Object> out;
    Message read;
    read.body = ReplicaGetRequest{"b", key};
    service_->HandleClientRequest(std::move(read), [&out](Message reply) {
      const auto* r = std::get_if<ReplicaGetReply>(&reply.body);
      EXPECT_NE(r, nullptr);
      EXPECT_TRUE(r != nullptr && r->status.ok()) << (r ? r->status.ToString() : "");
      if (r != nullptr && r->found) out = r->object;
    });
    return out;
  }

  Ring ring_ = MakeRing();
  ManualClock clock_;
  ManualScheduler scheduler_;
  RecordingTransport transport_;
  MemoryStorage storage_;
  Random random_{42};
  MetricsRegistry metrics_;
  std::optional<Service> service_;
};

}  // namespace ringkv::testing
