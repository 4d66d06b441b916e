// No input breaks a key (issue 12): every field a client or a peer sends is
// checked where it enters the node, before anything is stored. Each case
// sends what a hostile or broken sender would and checks what was stored
// afterwards, and that the key is still readable and writable.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <optional>
#include <string>

#include "causality/object_codec.h"
#include "causality/object_limits.h"
#include "proto/request_limits.h"
#include "tests/common/metric_value.h"
#include "tests/replication/service_fixture.h"

namespace ringkv {
namespace {

using testing::MetricValue;

constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();
const Actor kSelf{"n2", testing::ServiceFixture::kIncarnation};

class ServiceValidationTest : public testing::ServiceFixture {
 protected:
  // A key n2 is a primary of, so it coordinates its puts itself.
  ServiceValidationTest()
      : key_(FirstKey("k", [](const std::vector<NodeId>& p) { return Holds(p, "n2"); })) {}

  // A request from peer n1; returns the reply n2 sent back, if any.
  std::optional<MessageBody> FromPeer(MessageBody body) {
    transport_.Clear();
    Message m;
    m.request_id = ++next_id_;
    m.from = "n1";
    m.timeout_ms = 1000;
    m.body = std::move(body);
    service_->OnPeerMessage(std::move(m));
    EndTurn();
    for (const auto& sent : transport_.sent()) {
      if (sent.to == "n1" && sent.message.request_id == next_id_) return sent.message.body;
    }
    return std::nullopt;
  }

  MessageBody FromClient(MessageBody body) {
    std::optional<MessageBody> out;
    Message m;
    m.request_id = ++next_id_;
    m.body = std::move(body);
    service_->HandleClientRequest(std::move(m), [&out](Message reply) { out = reply.body; });
    EndTurn();
    EXPECT_TRUE(out.has_value()) << "answered within the loop turn";
    return out.value_or(ErrorReply{});
  }

  // A client put at W=1, so n2 answers once it stored the write.
  PutReply Put(const std::string& value, std::string context = "", bool tombstone = false) {
    PutRequest put;
    put.bucket = "b";
    put.key = key_;
    put.value = value;
    put.context = std::move(context);
    put.tombstone = tombstone;
    put.w = 1;
    MessageBody reply = FromClient(std::move(put));
    const auto* r = std::get_if<PutReply>(&reply);
    EXPECT_NE(r, nullptr);
    return r != nullptr ? *r : PutReply{Status::Internal("no put reply"), {}};
  }

  std::optional<Object> Local() { return ServiceFixture::Local(key_); }

  Status ReplicaPutAnswer(ReplicaPutRequest put) {
    std::optional<MessageBody> reply = FromPeer(std::move(put));
    if (!reply) return Status::Internal("no answer");
    if (const auto* r = std::get_if<ReplicaPutReply>(&*reply)) return r->status;
    return Status::Internal("not a replica put reply");
  }

  // An object as n3 would have coordinated it, with one sibling.
  Object FromN3(std::string value, uint64_t counter = 1) {
    Object o;
    const Actor n3{"n3", 1};
    o.context.Set(n3, counter);
    o.siblings.push_back(Sibling{Dot{n3, counter}, clock_.WallMicros(), false, std::move(value),
                                 WriteId{1, 2}});
    return o;
  }

  std::string ContextWith(uint64_t self_counter) {
    return EncodeContext(VersionVector({{kSelf, self_counter}}), "b", key_);
  }

  std::string key_;
  uint64_t next_id_ = 100;
};

TEST_F(ServiceValidationTest, AReplicaWriteOutOfBoundsIsRefusedAndStoresNothing) {
  struct Case {
    std::string name;
    ReplicaPutRequest put;
    std::string message;
  };
  Object zero_dot = FromN3("v");
  zero_dot.siblings[0].dot.counter = 0;
  Object huge_counter = FromN3("v", kMaxU64);
  Object nameless = FromN3("v");
  nameless.siblings[0].dot.actor.node.clear();
  nameless.context = VersionVector({{nameless.siblings[0].dot.actor, 1}});
  Object future = FromN3("v");
  future.siblings[0].timestamp_us = clock_.WallMicros() + 2 * 86'400'000'000;
  const std::vector<Case> cases = {
      {"6 MiB value", {"b", key_, FromN3(std::string(6 << 20, 'x')), {}},
       "sibling value of 6291456 bytes exceeds the limit of 4194304"},
      {"empty key", {"b", "", FromN3("v"), {}}, "key must be 1..65536 bytes"},
      {"empty bucket", {"", key_, FromN3("v"), {}}, "bucket must be 1..255 bytes"},
      {"counter 2^64-1", {"b", key_, huge_counter, {}}, "exceeds the limit of 4611686018427387904"},
      {"empty node id", {"b", key_, nameless, {}}, "node id is 0 bytes"},
      {"hint for a stranger", {"b", key_, FromN3("v"), "n9"}, "not a member of the ring"},
      {"timestamp two days ahead", {"b", key_, future, {}}, "more than a day ahead"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Status st = ReplicaPutAnswer(c.put);
    EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
    EXPECT_NE(st.message().find(c.message), std::string::npos) << st.message();
  }
  // A zero dot does not even decode (the object's invariants): the
  // connection's codec refuses it before the service sees it.
  EXPECT_NE(CheckInvariants(zero_dot), "");
  EXPECT_EQ(Local(), std::nullopt);
  EXPECT_TRUE(service_->HintCounts().empty());
  EXPECT_EQ(MetricValue(metrics_, "ringkv_rpc_invalid_requests_total"), 5);
  EXPECT_EQ(MetricValue(metrics_, "ringkv_invalid_requests_total", {{"source", "peer"}}), 2);

  // The key is untouched: an ordinary replica write and a put still work.
  EXPECT_TRUE(ReplicaPutAnswer({"b", key_, FromN3("fine"), {}}).ok());
  PutReply put = Put("mine");
  ASSERT_TRUE(put.status.ok()) << put.status.ToString();
  EXPECT_EQ(put.object.Values().size(), 2u);
}

TEST_F(ServiceValidationTest, ClientRequestsOutOfBoundsAreRefusedAtEntry) {
  MessageBody get = FromClient(GetRequest{"b", "", 0, 0});
  ASSERT_TRUE(std::holds_alternative<GetReply>(get));
  EXPECT_EQ(std::get<GetReply>(get).status.message(), "key must be 1..65536 bytes");
  MessageBody read = FromClient(ReplicaGetRequest{"b", std::string(kMaxKeyBytes + 1, 'k')});
  ASSERT_TRUE(std::holds_alternative<ReplicaGetReply>(read));
  EXPECT_TRUE(std::get<ReplicaGetReply>(read).status.IsInvalidArgument());
  PutReply big = Put(std::string(kMaxValueBytes + 1, 'x'));
  EXPECT_TRUE(big.status.IsInvalidArgument()) << big.status.ToString();
  PutReply long_context = Put("v", std::string(kMaxContextBytes + 8, '\0'));
  EXPECT_TRUE(long_context.status.IsInvalidArgument()) << long_context.status.ToString();
  EXPECT_EQ(MetricValue(metrics_, "ringkv_invalid_requests_total", {{"source", "client"}}), 4);
  EXPECT_EQ(Local(), std::nullopt);
}

TEST_F(ServiceValidationTest, APutOutOfBoundsIsAnsweredWithWhichBoundAndNothingIsSent) {
  struct Case {
    std::string name;
    std::function<void(PutRequest&)> spoil;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"empty key", [](PutRequest& p) { p.key.clear(); }, "key must be 1..65536 bytes"},
      {"empty bucket", [](PutRequest& p) { p.bucket.clear(); }, "bucket must be 1..255 bytes"},
      {"oversized value", [](PutRequest& p) { p.value.assign(kMaxValueBytes + 1, 'x'); },
       "value of 4194305 bytes exceeds the limit of 4194304"},
  };
  transport_.Clear();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    PutRequest put;
    put.bucket = "b";
    put.key = key_;
    put.value = "v";
    c.spoil(put);
    MessageBody reply = FromClient(std::move(put));
    ASSERT_TRUE(std::holds_alternative<PutReply>(reply));
    EXPECT_TRUE(std::get<PutReply>(reply).status.IsInvalidArgument());
    EXPECT_EQ(std::get<PutReply>(reply).status.message(), c.message);
  }
  EXPECT_TRUE(transport_.sent().empty());
  EXPECT_EQ(Local(), std::nullopt);
}

TEST_F(ServiceValidationTest, AContextWhoseCounterWouldWrapIsRefusedAndTheKeyStaysWritable) {
  PutReply first = Put("v1");
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  // The context a client got, with n2's counter set to 2^64-1: minting
  // the next dot would wrap to 0, which every other replica refuses.
  PutReply wrap = Put("v2", ContextWith(kMaxU64));
  EXPECT_TRUE(wrap.status.IsInvalidArgument()) << wrap.status.ToString();
  EXPECT_NE(wrap.status.message().find("exceeds the limit"), std::string::npos)
      << wrap.status.message();
  // Under the bound but ahead of what n2 minted for the key: refused too,
  // or n2's next dot would skip ahead of its own counter.
  PutReply ahead = Put("v2", ContextWith(5));
  EXPECT_TRUE(ahead.status.IsInvalidArgument()) << ahead.status.ToString();
  EXPECT_NE(ahead.status.message().find("n2 has written it 1 times"), std::string::npos)
      << ahead.status.message();

  std::optional<Object> stored = Local();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->context.Get(kSelf), 1u);
  PutReply next = Put("v3", ContextWith(1));
  ASSERT_TRUE(next.status.ok()) << next.status.ToString();
  ASSERT_EQ(next.object.siblings.size(), 1u);
  EXPECT_EQ(next.object.siblings[0].dot, (Dot{kSelf, 2}));
  EXPECT_EQ(next.object.siblings[0].value, "v3");
  // The object every replica is sent still decodes everywhere.
  EXPECT_TRUE(DecodeObject(EncodeObject(next.object)).ok());
  PutReply del = Put("", ContextWith(2), /*tombstone=*/true);
  ASSERT_TRUE(del.status.ok()) << del.status.ToString();
  EXPECT_TRUE(del.object.IsDeleted());
}

TEST_F(ServiceValidationTest, AContextFromAnotherKeyIsRefused) {
  ASSERT_TRUE(Put("v1").status.ok());
  const std::string other = EncodeContext(VersionVector({{kSelf, 1}}), "b", key_ + "-other");
  PutReply put = Put("v2", other);
  EXPECT_TRUE(put.status.IsInvalidArgument()) << put.status.ToString();
  EXPECT_NE(put.status.message().find("read from another key"), std::string::npos);
  ASSERT_EQ(Local()->siblings.size(), 1u);
  EXPECT_EQ(Local()->siblings[0].value, "v1");
}

TEST_F(ServiceValidationTest, TheWriteThatWouldPassTheObjectCapIsRefusedAndTheKeyStaysUsable) {
  const std::string value(kMaxValueBytes, 'v');
  for (int i = 0; i < 3; ++i) {
    PutReply put = Put(value);
    ASSERT_TRUE(put.status.ok()) << i << ": " << put.status.ToString();
  }
  const Object before = *Local();
  ASSERT_EQ(before.siblings.size(), 3u);
  for (int i = 3; i < 5; ++i) {
    PutReply put = Put(value);
    EXPECT_EQ(put.status.code(), Status::Code::kObjectTooLarge) << put.status.ToString();
    EXPECT_NE(put.status.message().find("over the per-key cap of 13.0 MiB"), std::string::npos)
        << put.status.message();
  }
  EXPECT_EQ(*Local(), before) << "a refused write changes nothing";
  // A blind delete adds a tombstone past the cap: a delete is always let in.
  PutReply blind_delete = Put("", "", /*tombstone=*/true);
  ASSERT_TRUE(blind_delete.status.ok()) << blind_delete.status.ToString();
  // A write that replaces what it read shrinks the object back.
  PutReply replace = Put("small", EncodeContext(blind_delete.object.context, "b", key_));
  ASSERT_TRUE(replace.status.ok()) << replace.status.ToString();
  EXPECT_EQ(replace.object.siblings.size(), 1u);
}

TEST_F(ServiceValidationTest, AMergePastTheMergedCapIsRefusedByTheReplica) {
  // Three 4 MiB values coordinated by n3 and three by n4 while apart: each
  // copy is under the cap, their merge would be 24 MiB.
  auto copy = [this](const Actor& a, int n) {
    Object o;
    for (int i = 1; i <= n; ++i) {
      o.siblings.push_back(Sibling{Dot{a, static_cast<uint64_t>(i)}, clock_.WallMicros(), false,
                                   std::string(kMaxValueBytes - 1024, static_cast<char>('a' + i)),
                                   WriteId{static_cast<uint64_t>(i), a.node == "n3" ? 3u : 4u}});
    }
    o.context.Set(a, n);
    return o;
  };
  ASSERT_TRUE(ReplicaPutAnswer({"b", key_, copy(Actor{"n3", 1}, 3), {}}).ok());
  Status st = ReplicaPutAnswer({"b", key_, copy(Actor{"n4", 1}, 3), {}});
  EXPECT_EQ(st.code(), Status::Code::kObjectTooLarge) << st.ToString();
  EXPECT_EQ(Local()->siblings.size(), 3u);
}


// A hint delivered for a copy n2 does not keep (a ring change moved it, and
// the holder is still on the old ring) is refused: stored, it would be
// deleted by the cleanup, or leave with a departing node. The holder keeps
// it and routes it by the new ring. A plain replica write (a coordinator
// on the old ring) is still taken; n2 as the receiver of a move takes the
// handoff too.
TEST_F(ServiceValidationTest, AHandoffForAPartitionThisNodeDoesNotKeepIsRefused) {
  const std::string elsewhere =
      FirstKey("x", [](const std::vector<NodeId>& p) { return !Holds(p, "n2"); });
  ReplicaPutRequest handoff{"b", elsewhere, FromN3("hinted"), {}, /*handoff=*/true};
  Status st = ReplicaPutAnswer(handoff);
  EXPECT_TRUE(st.IsUnavailable()) << st.ToString();
  EXPECT_NE(st.message().find("does not replicate partition"), std::string::npos) << st.message();
  EXPECT_EQ(ServiceFixture::Local(elsewhere), std::nullopt);

  EXPECT_TRUE(ReplicaPutAnswer({"b", key_, FromN3("mine"), {}, /*handoff=*/true}).ok());
  EXPECT_EQ(Local()->siblings.at(0).value, "mine");

  // n2 receives a move of that partition: the hint's copy goes to it too.
  Ring next = Ring::Create({"n1", "n2", "n3", "n4", "n5"}, 64, 3, /*epoch=*/2).value();
  const uint64_t hash = KeyHash("b", elsewhere);
  next.set_handovers({{next.PartitionOf(hash), next.PrimariesFor(hash, 3).front(), "n2"}});
  service_->membership().Publish(std::move(next), {});
  EXPECT_TRUE(ReplicaPutAnswer(handoff).ok());
  ASSERT_TRUE(ServiceFixture::Local(elsewhere).has_value());
  EXPECT_EQ(ServiceFixture::Local(elsewhere)->siblings.at(0).value, "hinted");
}
}  // namespace
}  // namespace ringkv
