// The bounds every request's fields must meet where it enters a node
// (docs/limits.md), each checked at its edge, and the refusal each request
// type is answered with.
#include "proto/request_limits.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "causality/object_codec.h"
#include "causality/object_limits.h"

namespace ringkv {
namespace {

Object OneSibling(std::string node, uint64_t counter, std::string value) {
  Object o;
  const Actor a{std::move(node), 1};
  o.context.Set(a, counter);
  o.siblings.push_back(Sibling{Dot{a, counter}, 5, false, std::move(value), WriteId{1, 1}});
  return o;
}

TEST(RequestLimitsTest, KeysAndBucketsAreBoundedInEveryRequestThatNamesOne) {
  const std::string max_key(kMaxKeyBytes, 'k');
  const std::string max_bucket(kMaxBucketBytes, 'b');
  EXPECT_TRUE(ValidateRequest(GetRequest{max_bucket, max_key}).ok());
  EXPECT_TRUE(ValidateRequest(ReplicaGetRequest{max_bucket, max_key}).ok());
  for (const auto& [bucket, key] : std::vector<std::pair<std::string, std::string>>{
           {"", "k"}, {"b", ""}, {max_bucket + "b", "k"}, {"b", max_key + "k"}}) {
    EXPECT_TRUE(ValidateRequest(GetRequest{bucket, key}).IsInvalidArgument());
    EXPECT_TRUE(ValidateRequest(ReplicaGetRequest{bucket, key}).IsInvalidArgument());
    PutRequest put;
    put.bucket = bucket;
    put.key = key;
    EXPECT_TRUE(ValidateRequest(put).IsInvalidArgument());
    EXPECT_TRUE(ValidateRequest(ReplicaPutRequest{bucket, key, OneSibling("n1", 1, "v"), {}})
                    .IsInvalidArgument());
  }
}

TEST(RequestLimitsTest, ValuesContextsAndObjectsAreBounded) {
  PutRequest put;
  put.bucket = "b";
  put.key = "k";
  put.value.assign(kMaxValueBytes, 'v');
  EXPECT_TRUE(ValidateRequest(put).ok());
  put.value.push_back('v');
  EXPECT_EQ(ValidateRequest(put).message(), "value of 4194305 bytes exceeds the limit of 4194304");
  put.value.clear();
  put.context.assign(kMaxContextBytes + 1, 'c');
  EXPECT_TRUE(ValidateRequest(put).IsInvalidArgument());

  auto replica_put = [](Object o, std::string hint_for = "") {
    return ValidateRequest(ReplicaPutRequest{"b", "k", std::move(o), std::move(hint_for)});
  };
  EXPECT_TRUE(replica_put(OneSibling("n1", kMaxDotCounter, "v")).ok());
  EXPECT_TRUE(replica_put(OneSibling("n1", kMaxDotCounter + 1, "v")).IsInvalidArgument());
  EXPECT_TRUE(replica_put(OneSibling("n1", std::numeric_limits<uint64_t>::max(), "v"))
                  .IsInvalidArgument());
  EXPECT_TRUE(replica_put(OneSibling("", 1, "v")).IsInvalidArgument());
  EXPECT_TRUE(replica_put(OneSibling(std::string(256, 'n'), 1, "v")).IsInvalidArgument());
  EXPECT_TRUE(replica_put(OneSibling("n1", 1, std::string(6 << 20, 'x'))).IsInvalidArgument());
  EXPECT_TRUE(replica_put(OneSibling("n1", 1, "v"), std::string(256, 'h')).IsInvalidArgument());

  // Four values of the largest size: each is allowed, the whole is not.
  Object big;
  const Actor a{"n1", 1};
  for (uint64_t i = 1; i <= 4; ++i) {
    big.siblings.push_back(Sibling{Dot{a, i}, 5, false, std::string(kMaxValueBytes, 'x'), {}});
  }
  big.context.Set(a, 4);
  EXPECT_GT(ObjectSize(big), kMaxMergedObjectBytes);
  EXPECT_TRUE(replica_put(big).IsObjectTooLarge());
  big.siblings.pop_back();
  EXPECT_LE(ObjectSize(big), kMaxObjectBytes) << "three values fit the coordinator's cap";
  EXPECT_TRUE(replica_put(big).ok());
}

TEST(RequestLimitsTest, TheObjectSizeBoundsItsEncoding) {
  Object o = OneSibling("n1", 3, std::string(1000, 'v'));
  o.siblings.push_back(Sibling{Dot{Actor{"n2", 9}, 1}, 7, true, "", {}});
  o.context.Set(Actor{"n2", 9}, 1);
  EXPECT_GE(ObjectSize(o), EncodeObject(o).size());
}

TEST(RequestLimitsTest, ARefusalIsTheRequestsOwnReplyType) {
  const Status st = Status::InvalidArgument("no");
  EXPECT_EQ(std::get<GetReply>(Refusal(GetRequest{}, st)).status, st);
  EXPECT_EQ(std::get<PutReply>(Refusal(PutRequest{}, st)).status, st);
  EXPECT_EQ(std::get<ReplicaGetReply>(Refusal(ReplicaGetRequest{}, st)).status, st);
  EXPECT_EQ(std::get<ReplicaPutReply>(Refusal(ReplicaPutRequest{}, st)).status, st);
  EXPECT_EQ(std::get<ErrorReply>(Refusal(Ping{}, st)).status, st);
}

}  // namespace
}  // namespace ringkv
