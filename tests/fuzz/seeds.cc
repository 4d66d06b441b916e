#include "tests/fuzz/seeds.h"

#include <utility>

#include "causality/object.h"
#include "causality/object_codec.h"
#include "client/context_text.h"
#include "node/cluster_file.h"
#include "proto/codec.h"
#include "proto/frame.h"
#include "storage/keys.h"
#include "storage/record.h"

namespace ringkv::fuzz {
namespace {

const Actor kA{"n1", 7};
const Actor kB{"n2", 9};

// A value, a concurrent value and a tombstone: each sibling form once.
Object Siblings() {
  Object o = Update(Object{}, VersionVector{}, kA, 1700000000000000, false, "v1", WriteId{1, 2});
  o = Update(std::move(o), VersionVector{}, kB, 1700000000000001, false, "v2", WriteId{3, 4});
  return Update(std::move(o), VersionVector({{kA, 1}}), kA, 1700000000000002, true, "",
                WriteId{5, 6});
}

Object OneValue() {
  return Update(Object{}, VersionVector{}, kA, 1700000000000000, false, "hello", WriteId{7, 8});
}

std::vector<std::pair<std::string, Message>> Messages() {
  auto msg = [](MessageBody body, std::string from = "") {
    Message m;
    m.request_id = 42;
    m.from = std::move(from);
    m.timeout_ms = 1000;
    m.sender_generation = m.from.empty() ? 0 : 3;
    m.sent_mono_us = m.from.empty() ? 0 : 123456;
    m.body = std::move(body);
    return m;
  };
  PutRequest put;
  put.bucket = "b";
  put.key = "k";
  put.value = "value";
  put.context = EncodeContext(Siblings().context, put.bucket, put.key);
  put.w = 2;
  put.pw = 1;
  PutRequest blind_tombstone;
  blind_tombstone.key = "k";
  blind_tombstone.tombstone = true;
  ReplicaPutRequest replica_put;
  replica_put.bucket = "b";
  replica_put.key = "k";
  replica_put.object = Siblings();
  PutRequest forwarded = put;
  forwarded.forwarded = true;
  forwarded.timestamp_us = 1700000000000000;
  forwarded.write_id = WriteId{11, 12};
  NodeStatus status;
  status.node = "n1";
  status.incarnation = 7;
  status.peers = {{"n2", true, 0.5}, {"n3", false, 12.0}};
  status.hints = {{"n3", 4}};
  status.hints_delivered = 9;
  status.ring_epoch = 1;
  MetricSample counter;
  counter.name = "ringkv_requests_total";
  counter.type = MetricType::kCounter;
  counter.help = "Requests.";
  counter.labels = {{"op", "get"}};
  counter.value = 5;
  MetricSample histogram;
  histogram.name = "ringkv_latency_seconds";
  histogram.type = MetricType::kHistogram;
  histogram.count = 3;
  histogram.sum = 0.25;
  histogram.buckets = {{0.1, 2}, {1.0, 3}};
  status.metrics = {counter, histogram};
  RingInfo ring;
  ring.epoch = 1;
  ring.partitions = 64;
  ring.n = 3;
  ring.members = {{"n1", "127.0.0.1:7101"}, {"n2", "[::1]:7102"}};
  ring.default_bucket = {"", 3, 2, 2, "siblings"};
  ring.buckets = {{"sessions", 3, 1, 1, "lww"}};

  return {
      {"ping", msg(Ping{})},
      {"pong", msg(Pong{"n1"})},
      {"get", msg(GetRequest{"b", "k", 2, 1})},
      {"get-reply", msg(GetReply{Status::OK(), true, Siblings()})},
      {"get-reply-error", msg(GetReply{Status::Unavailable("quorum not reached"), false, {}})},
      {"put", msg(put)},
      {"put-blind-tombstone", msg(blind_tombstone)},
      {"put-forwarded", msg(forwarded, "n2")},
      {"put-reply", msg(PutReply{Status::OK(), OneValue()})},
      {"replica-get", msg(ReplicaGetRequest{"b", "k"}, "n2")},
      {"replica-get-reply", msg(ReplicaGetReply{Status::OK(), true, Siblings()}, "n3")},
      {"replica-put", msg(replica_put, "n2")},
      {"replica-put-hint", msg(ReplicaPutRequest{"b", "k", OneValue(), "n3", false}, "n2")},
      {"replica-put-handoff", msg(ReplicaPutRequest{"b", "k", OneValue(), "", true}, "n2")},
      {"replica-put-reply", msg(ReplicaPutReply{Status::IOError("disk full")}, "n3")},
      {"error", msg(ErrorReply{Status::InvalidArgument("bad request")})},
      {"gossip", msg(Gossip{1, {{"n1", 3, 100}, {"n2", 4, 7}}}, "n1")},
      {"status-request", msg(StatusRequest{})},
      {"status-reply", msg(status)},
      {"ring-request", msg(RingRequest{})},
      {"ring-reply", msg(ring)},
      {"peer-hello", msg(PeerHello{"n1", std::string(32, '\x11')})},
      {"peer-challenge",
       msg(PeerChallenge{"n2", std::string(32, '\x22'), std::string(32, '\x33')})},
      {"peer-proof", msg(PeerProof{std::string(32, '\x44')})},
  };
}

ClusterFile ThreeNodes() {
  ClusterFile file;
  file.members = {{"n1", "127.0.0.1:7101"}, {"n2", "127.0.0.1:7102"}, {"n3", "[::1]:7103"}};
  BucketProps defaults;
  file.buckets = BucketTable(defaults);
  BucketProps lww = defaults;
  lww.resolver = "lww";
  lww.r = lww.w = 1;
  file.buckets.Set("sessions", lww);
  return file;
}

}  // namespace

std::vector<Seed> MakeSeeds() {
  std::vector<Seed> seeds;
  std::string stream;
  for (const auto& [name, message] : Messages()) {
    const std::string bytes = EncodeMessage(message);
    seeds.push_back({"message", name, bytes});
    std::string frame;
    AppendFrame(bytes, &frame);
    seeds.push_back({"frame", name, frame});
    stream += frame;
  }
  seeds.push_back({"frame", "stream", stream});
  seeds.push_back({"frame", "stream-cut", stream.substr(0, stream.size() / 2)});

  const std::vector<std::pair<std::string, Object>> objects = {
      {"empty", Object{}}, {"value", OneValue()}, {"siblings", Siblings()}};
  for (const auto& [name, object] : objects) {
    const std::string body = EncodeObject(object);
    seeds.push_back({"record", "object-" + name, EncodeRecord(body)});
    seeds.push_back({"record", "object-body-" + name, body});
  }
  seeds.push_back({"record", "object-key", ObjectKey(5, "bucket", "key")});
  seeds.push_back({"record", "object-key-default-bucket", ObjectKey(0, "", "k")});
  seeds.push_back({"record", "hint-key", HintKey("n3", 5, "bucket", "key")});

  const std::vector<std::pair<std::string, VersionVector>> contexts = {
      {"one", VersionVector({{kA, 3}})}, {"two", Siblings().context}};
  for (const auto& [name, context] : contexts) {
    const std::string bytes = EncodeContext(context, "b", "k");
    seeds.push_back({"context", "text-" + name, ContextToText(bytes)});
    seeds.push_back({"context", "bytes-" + name, bytes});
  }

  ClusterFile three = ThreeNodes();
  seeds.push_back({"cluster_file", "three-nodes", FormatClusterFile(three)});
  ClusterFile one;
  one.partitions = 8;
  one.n = 1;
  one.members = {{"solo", "localhost:7101"}};
  BucketProps single;
  single.n = single.r = single.w = 1;
  one.buckets = BucketTable(single);
  seeds.push_back({"cluster_file", "one-node", FormatClusterFile(one)});
  return seeds;
}

}  // namespace ringkv::fuzz
