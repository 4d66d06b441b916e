#include <gtest/gtest.h>

#include <string>

#include "causality/object_codec.h"
#include "proto/codec.h"
#include "proto/frame.h"
#include "tools/bench/redis_protocol.h"
#include "tools/bench/ringkv_protocol.h"
#include "tools/bench/target.h"

namespace ringkv::bench {
namespace {

TEST(TargetTest, ParsesBothSchemes) {
  Result<Target> t = ParseTarget("ringkv://127.0.0.1:7101,localhost:7102");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->kind, Target::Kind::kRingkv);
  ASSERT_EQ(t->endpoints.size(), 2u);
  EXPECT_EQ(t->endpoints[1].host, "localhost");
  EXPECT_EQ(t->endpoints[1].port, 7102);
  Result<Target> r = ParseTarget("redis://127.0.0.1:6379");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, Target::Kind::kRedis);
}

TEST(TargetTest, RejectsBadInput) {
  EXPECT_FALSE(ParseTarget("ftp://x:1").ok());
  EXPECT_FALSE(ParseTarget("ringkv://").ok());
  EXPECT_FALSE(ParseTarget("ringkv://host").ok());
  EXPECT_FALSE(ParseTarget("ringkv://host:0").ok());
  EXPECT_FALSE(ParseTarget("ringkv://host:70000").ok());
  EXPECT_FALSE(ParseTarget("redis://a:1,b:2").ok());
}

TEST(RedisProtocolTest, EncodesResp) {
  RedisProtocol p;
  std::string out;
  p.Encode(1, {RequestKind::kPut, "k1", "vv", "", false}, &out);
  p.Encode(2, {RequestKind::kGet, "k1", "", "", false}, &out);
  p.Encode(3, {RequestKind::kPing, "", "", "", false}, &out);
  EXPECT_EQ(out,
            "*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$2\r\nvv\r\n"
            "*2\r\n$3\r\nGET\r\n$2\r\nk1\r\n"
            "*1\r\n$4\r\nPING\r\n");
}

TEST(RedisProtocolTest, ParsesRepliesIncrementally) {
  RedisProtocol p;
  const std::string stream = "+OK\r\n$5\r\nhello\r\n$-1\r\n-ERR bad\r\n+PONG\r\n";
  // Feed every prefix: a partial reply is never taken for a whole one.
  size_t at = 0;
  int replies = 0;
  Reply got[5];
  for (size_t end = 1; end <= stream.size(); ++end) {
    for (;;) {
      size_t consumed = 0;
      Reply r;
      auto state = p.Parse(std::string_view(stream).substr(at, end - at), &consumed, &r);
      ASSERT_NE(state, Protocol::ParseState::kError) << "at " << at << " end " << end;
      if (state == Protocol::ParseState::kNeedMore) break;
      got[replies++] = r;
      at += consumed;
    }
  }
  ASSERT_EQ(replies, 5);
  EXPECT_TRUE(got[0].ok);
  EXPECT_TRUE(got[1].ok && got[1].found);
  EXPECT_EQ(got[1].value_size, 5u);
  EXPECT_TRUE(got[2].ok && !got[2].found);
  EXPECT_FALSE(got[3].ok);
  EXPECT_EQ(got[3].error_kind, "redis_error");
  EXPECT_TRUE(got[4].ok);
}

TEST(RedisProtocolTest, RejectsGarbage) {
  RedisProtocol p;
  size_t consumed = 0;
  Reply r;
  EXPECT_EQ(p.Parse("?what\r\n", &consumed, &r), Protocol::ParseState::kError);
  EXPECT_EQ(p.Parse("$abc\r\n", &consumed, &r), Protocol::ParseState::kError);
  EXPECT_EQ(p.Parse("$2\r\nabcd", &consumed, &r), Protocol::ParseState::kError);
}

std::string Framed(const Message& m) {
  std::string out;
  AppendFrame(EncodeMessage(m), &out);
  return out;
}

TEST(RingkvProtocolTest, EncodesRequestsWithOptions) {
  RingkvOptions options;
  options.bucket = "b";
  options.r = 2;
  options.w = kQuorumAll;
  options.timeout_ms = 250;
  RingkvProtocol p(options);
  std::string out;
  p.Encode(9, {RequestKind::kPut, "k", "val", "", false}, &out);
  FrameParse frame = ParseFrame(out);
  ASSERT_EQ(frame.state, FrameParse::State::kFrame);
  Result<Message> m = DecodeMessage(frame.body);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->request_id, 9u);
  EXPECT_EQ(m->timeout_ms, 250u);
  const auto& put = std::get<PutRequest>(m->body);
  EXPECT_EQ(put.bucket, "b");
  EXPECT_EQ(put.key, "k");
  EXPECT_EQ(put.value, "val");
  EXPECT_EQ(put.w, kQuorumAll);

  out.clear();
  p.Encode(10, {RequestKind::kGet, "k", "", "", false}, &out);
  frame = ParseFrame(out);
  m = DecodeMessage(frame.body);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<GetRequest>(m->body).r, 2u);
}

TEST(RingkvProtocolTest, ParsesGetReplyWithContextOnlyWhenAsked) {
  RingkvProtocol p(RingkvOptions{});
  std::string scratch;
  p.Encode(5, {RequestKind::kGet, "k", "", "", /*want_context=*/true}, &scratch);

  Object object;
  object.context = VersionVector({{Actor{"n1", 1}, 3}});
  object.siblings.push_back(Sibling{Dot{Actor{"n1", 1}, 3}, 100, false, "hello"});
  GetReply get;
  get.found = true;
  get.object = object;
  Message reply{5, "n1", 0, get};
  std::string stream = Framed(reply);
  reply.request_id = 6;
  stream += Framed(reply);

  size_t consumed = 0;
  Reply r;
  ASSERT_EQ(p.Parse(stream, &consumed, &r), Protocol::ParseState::kReply);
  EXPECT_EQ(r.id, 5u);
  EXPECT_TRUE(r.ok && r.found);
  EXPECT_EQ(r.value_size, 5u);
  EXPECT_EQ(r.siblings, 1u);
  EXPECT_EQ(r.context, EncodeContext(object.context, "bench", "k"));

  Reply second;
  ASSERT_EQ(p.Parse(std::string_view(stream).substr(consumed), &consumed, &second),
            Protocol::ParseState::kReply);
  EXPECT_EQ(second.id, 6u);
  EXPECT_TRUE(second.context.empty());
}

TEST(RingkvProtocolTest, MapsErrorsAndBadFrames) {
  RingkvProtocol p(RingkvOptions{});
  PutReply put;
  put.status = Status::Unavailable("1 of 2");
  size_t consumed = 0;
  Reply r;
  ASSERT_EQ(p.Parse(Framed(Message{1, "", 0, put}), &consumed, &r), Protocol::ParseState::kReply);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.error_kind.empty());

  GetReply missing;
  missing.status = Status::NotFound();
  Reply m;
  ASSERT_EQ(p.Parse(Framed(Message{2, "", 0, missing}), &consumed, &m),
            Protocol::ParseState::kReply);
  EXPECT_TRUE(m.ok);
  EXPECT_FALSE(m.found);

  std::string bad = Framed(Message{3, "", 0, Ping{}});
  bad[kFrameHeaderSize] ^= 0x5a;  // checksum no longer matches
  Reply e;
  EXPECT_EQ(p.Parse(bad, &consumed, &e), Protocol::ParseState::kError);
  EXPECT_EQ(p.Parse(bad.substr(0, 5), &consumed, &e), Protocol::ParseState::kNeedMore);
}

}  // namespace
}  // namespace ringkv::bench
