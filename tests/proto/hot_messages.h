// Messages of the hot types (proto/direct_decoder.h, direct_encoder.h),
// fixed and random, for the tests of both.
#pragma once

#include <rapidcheck.h>

#include <string>
#include <vector>

#include "causality/object.h"
#include "proto/messages.h"

namespace ringkv::testing {

inline Object SampleObject() {
  Object a = Update(Object{}, VersionVector{}, Actor{"n1", 7}, 1000, false, "v1", {1, 2});
  Object b = Update(Object{}, VersionVector{}, Actor{"node-with-a-long-name", 9}, 2000, false,
                    std::string(300, 'x'), {3, 4});
  Object tomb = Update(Object{}, VersionVector{}, Actor{"n3", 1}, 3000, true, "");
  return Sync(Sync(a, b), tomb);
}

inline Message With(MessageBody body) {
  Message m;
  m.request_id = 0x0123456789abcdefULL;
  m.from = "n2";
  m.timeout_ms = 1500;
  m.sender_generation = 77;
  m.sent_mono_us = -5;
  m.body = std::move(body);
  return m;
}

inline std::vector<Message> HotMessages() {
  const std::string binary("\x00\xff\x01k\x00", 5);
  std::vector<Message> all;
  all.push_back(With(GetRequest{"bucket", binary, 2, kQuorumQuorum}));
  all.push_back(With(GetReply{Status::OK(), true, SampleObject()}));
  all.push_back(With(GetReply{Status::NotFound("no such key"), false, Object{}}));
  PutRequest put;
  put.bucket = binary;
  put.key = "a-key-longer-than-fifteen-bytes";
  put.value = std::string(10000, 'x') + binary;
  put.context = std::string("opaque\0ctx", 10);
  put.w = kQuorumAll;
  put.pw = 1;
  put.forwarded = true;
  put.timestamp_us = -3;
  put.write_id = {0xffffffffffffffffULL, 1};
  put.if_match = true;
  all.push_back(With(put));
  PutRequest del;
  del.bucket = "b";
  del.key = "k";
  del.tombstone = true;
  all.push_back(With(del));
  all.push_back(With(PutReply{Status::OK(), SampleObject()}));
  all.push_back(With(PutReply{Status::Unavailable("1 of 2 acks"), Object{}}));
  all.push_back(With(ReplicaGetRequest{"b", "k"}));
  all.push_back(With(ReplicaGetReply{Status::OK(), true, SampleObject()}));
  all.push_back(With(ReplicaGetReply{Status::OK(), false, Object{}}));
  all.push_back(With(ReplicaPutRequest{"b", binary, SampleObject(), {}}));
  ReplicaPutRequest hinted{"b", "k", SampleObject(), "n3"};
  hinted.handoff = true;
  all.push_back(With(hinted));
  all.push_back(With(ReplicaPutReply{Status::OK()}));
  all.push_back(With(ReplicaPutReply{Status::IOError("disk full")}));
  // A client request: no sender, no deadline, zero id, a token.
  Message client;
  client.body = GetRequest{"b", "k", 0, 0};
  client.auth_token = "secret-token";
  all.push_back(client);
  return all;
}

// A random object, as a history of writes and syncs leaves it (rapidcheck).
inline Object RandomObject() {
  Object o;
  const int writes = *rc::gen::inRange(0, 4);
  for (int i = 0; i < writes; ++i) {
    const Actor actor{*rc::gen::element<std::string>("n1", "n2", "a-long-node-name-17"),
                      *rc::gen::inRange<uint64_t>(1, 4)};
    const bool tombstone = *rc::gen::inRange(0, 4) == 0;
    const std::string value = tombstone ? "" : *rc::gen::arbitrary<std::string>();
    Object w = Update(Object{}, *rc::gen::element(VersionVector{}, o.context), actor,
                      *rc::gen::arbitrary<int64_t>(), tombstone, value,
                      WriteId{*rc::gen::arbitrary<uint64_t>(), *rc::gen::arbitrary<uint64_t>()});
    o = Sync(o, w);
  }
  return o;
}

// A random message of a hot type (rapidcheck).
inline Message RandomHotMessage() {
  Message m;
  m.request_id = *rc::gen::arbitrary<uint64_t>();
  m.from = *rc::gen::element<std::string>("", "n1", "a-long-node-name-17");
  m.timeout_ms = *rc::gen::arbitrary<uint32_t>();
  m.sender_generation = *rc::gen::arbitrary<uint64_t>();
  m.sent_mono_us = *rc::gen::arbitrary<int64_t>();
  m.auth_token = *rc::gen::arbitrary<std::string>();
  const std::string bucket = *rc::gen::arbitrary<std::string>();
  const std::string key = *rc::gen::arbitrary<std::string>();
  const Status status =
      *rc::gen::element(Status::OK(), Status::Unavailable("1 of 3"), Status::IOError(""));
  switch (*rc::gen::inRange(0, 8)) {
    case 0:
      m.body = GetRequest{bucket, key, *rc::gen::arbitrary<uint32_t>(),
                          *rc::gen::arbitrary<uint32_t>()};
      break;
    case 1: {
      PutRequest p;
      p.bucket = bucket;
      p.key = key;
      p.value = *rc::gen::arbitrary<std::string>();
      p.tombstone = *rc::gen::arbitrary<bool>();
      p.context = *rc::gen::arbitrary<std::string>();
      p.w = *rc::gen::arbitrary<uint32_t>();
      p.pw = *rc::gen::arbitrary<uint32_t>();
      p.forwarded = *rc::gen::arbitrary<bool>();
      p.timestamp_us = *rc::gen::arbitrary<int64_t>();
      p.write_id = {*rc::gen::arbitrary<uint64_t>(), *rc::gen::arbitrary<uint64_t>()};
      p.if_match = *rc::gen::arbitrary<bool>();
      m.body = p;
      break;
    }
    case 2:
      m.body = GetReply{status, *rc::gen::arbitrary<bool>(), RandomObject()};
      break;
    case 3:
      m.body = PutReply{status, RandomObject()};
      break;
    case 4:
      m.body = ReplicaGetRequest{bucket, key};
      break;
    case 5:
      m.body = ReplicaGetReply{status, *rc::gen::arbitrary<bool>(), RandomObject()};
      break;
    case 6:
      m.body = ReplicaPutRequest{bucket, key, RandomObject(),
                                 *rc::gen::element<std::string>("", "n3"),
                                 *rc::gen::arbitrary<bool>()};
      break;
    default:
      m.body = ReplicaPutReply{status};
      break;
  }
  return m;
}

}  // namespace ringkv::testing
