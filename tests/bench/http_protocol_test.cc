#include "tools/bench/http_protocol.h"

#include <gtest/gtest.h>

#include "common/quorum.h"
#include "tools/bench/target.h"

namespace ringkv::bench {
namespace {

TEST(HttpProtocolTest, EncodesKeyRequestsWithQuorumsAndContext) {
  RingkvOptions options;
  options.bucket = "b/x";
  options.r = 2;
  options.w = kQuorumAll;
  options.timeout_ms = 300;
  HttpProtocol p(options);
  std::string out;
  p.Encode(1, Request{RequestKind::kGet, "k+1", "", "", false}, &out);
  EXPECT_EQ(out, "GET /v1/buckets/b%2Fx/keys/k%2B1?r=2&timeout_ms=300 HTTP/1.1\r\nHost: bench\r\n\r\n");
  out.clear();
  p.Encode(2, Request{RequestKind::kPut, "k", "vv", "CTX", false}, &out);
  EXPECT_EQ(out,
            "PUT /v1/buckets/b%2Fx/keys/k?w=all&timeout_ms=300 HTTP/1.1\r\nHost: bench\r\n"
            "Content-Length: 2\r\nX-Ringkv-Context: CTX\r\n\r\nvv");
}

TEST(HttpProtocolTest, ParsesResponsesOneAtATime) {
  HttpProtocol p(RingkvOptions{});
  const std::string two =
      "HTTP/1.1 200 OK\r\nX-Ringkv-Context: C1\r\nContent-Length: 3\r\n\r\nabc"
      "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 2\r\n\r\n{}";
  size_t consumed = 0;
  Reply first;
  ASSERT_EQ(p.Parse(two, &consumed, &first), Protocol::ParseState::kReply);
  EXPECT_TRUE(first.ok);
  EXPECT_TRUE(first.found);
  EXPECT_EQ(first.value_size, 3u);
  EXPECT_EQ(first.context, "C1");
  Reply second;
  size_t consumed2 = 0;
  ASSERT_EQ(p.Parse(std::string_view(two).substr(consumed), &consumed2, &second),
            Protocol::ParseState::kReply);
  EXPECT_FALSE(second.ok);
  EXPECT_EQ(second.error_kind, "unavailable");
  Reply partial;
  EXPECT_EQ(p.Parse(two.substr(0, 20), &consumed, &partial), Protocol::ParseState::kNeedMore);
  Reply missing;
  ASSERT_EQ(p.Parse("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", &consumed, &missing),
            Protocol::ParseState::kReply);
  EXPECT_TRUE(missing.ok);
  EXPECT_FALSE(missing.found);
  Reply garbage;
  EXPECT_EQ(p.Parse("SSH-2.0\r\n\r\n", &consumed, &garbage), Protocol::ParseState::kError);
}

TEST(HttpProtocolTest, TargetScheme) {
  Result<Target> t = ParseTarget("http://127.0.0.1:8101,127.0.0.1:8102");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->kind, Target::Kind::kHttp);
  EXPECT_EQ(t->endpoints.size(), 2u);
}

}  // namespace
}  // namespace ringkv::bench
