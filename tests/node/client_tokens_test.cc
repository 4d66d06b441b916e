// ClientTokens (docs/security.md, "Client tokens"): the token file holds
// hashes only, a request needs a known token with the grant for its bucket,
// and a forged, missing or under-privileged token gets a clear refusal.
#include "node/client_tokens.h"

#include <gtest/gtest.h>

namespace ringkv {
namespace {

Message Request(MessageBody body, std::string token = "") {
  Message m;
  m.request_id = 1;
  m.auth_token = std::move(token);
  m.body = std::move(body);
  return m;
}

PutRequest Put(const std::string& bucket, bool tombstone = false) {
  PutRequest put;
  put.bucket = bucket;
  put.key = "k";
  put.tombstone = tombstone;
  return put;
}

class ClientTokensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string text = "# hash name grants\n\n" + TokenHash("reader-token") +
                             " reader kv.get:carts\n" + TokenHash("writer-token") +
                             " writer kv.get:*,kv.put:carts\n" + TokenHash("admin-token") +
                             " ops cluster.admin,kv.delete:carts\n";
    Result<ClientTokens> parsed = ClientTokens::Parse(text, "tokens");
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    tokens_ = std::move(parsed).value();
  }
  ClientTokens tokens_;
};

TEST_F(ClientTokensTest, TheHashIsSha256) {
  EXPECT_EQ(TokenHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(ClientTokensTest, GrantsDecidePerBucketAndPermission) {
  EXPECT_TRUE(tokens_.Authorize(Request(GetRequest{"carts", "k"}, "reader-token")).ok());
  EXPECT_TRUE(tokens_.Authorize(Request(ReplicaGetRequest{"carts", "k"}, "reader-token")).ok());
  EXPECT_TRUE(tokens_.Authorize(Request(GetRequest{"other", "k"}, "writer-token")).ok());
  EXPECT_TRUE(tokens_.Authorize(Request(Put("carts"), "writer-token")).ok());
  EXPECT_TRUE(tokens_.Authorize(Request(Put("carts", true), "admin-token")).ok());
  EXPECT_TRUE(tokens_.Authorize(Request(StatusRequest{}, "admin-token")).ok());
  EXPECT_TRUE(tokens_.Authorize(Request(RingRequest{}, "reader-token")).ok());
  EXPECT_TRUE(tokens_.Authorize(Request(Ping{})).ok()) << "ping needs no token";
}

TEST_F(ClientTokensTest, AMissingOrForgedTokenIsUnauthenticated) {
  for (const std::string& token : {std::string(), std::string("forged"),
                                   TokenHash("reader-token"), std::string("reader-token ")}) {
    Status st = tokens_.Authorize(Request(GetRequest{"carts", "k"}, token));
    EXPECT_TRUE(st.IsUnauthenticated()) << "'" << token << "': " << st.ToString();
  }
  EXPECT_TRUE(tokens_.Authorize(Request(RingRequest{})).IsUnauthenticated());
}

TEST_F(ClientTokensTest, ATokenWithoutTheGrantIsForbidden) {
  Status put = tokens_.Authorize(Request(Put("carts"), "reader-token"));
  EXPECT_TRUE(put.IsForbidden()) << put.ToString();
  EXPECT_EQ(put.message(), "token 'reader' lacks kv.put on bucket 'carts'");
  // kv.put does not allow a delete, nor a grant on one bucket another.
  EXPECT_TRUE(tokens_.Authorize(Request(Put("carts", true), "writer-token")).IsForbidden());
  EXPECT_TRUE(tokens_.Authorize(Request(Put("other"), "writer-token")).IsForbidden());
  EXPECT_TRUE(tokens_.Authorize(Request(GetRequest{"other", "k"}, "reader-token")).IsForbidden());
  EXPECT_TRUE(tokens_.Authorize(Request(StatusRequest{}, "writer-token")).IsForbidden());
}

TEST_F(ClientTokensTest, MalformedFilesAreRefusedWithTheirLine) {
  const std::string good = TokenHash("x");
  const std::pair<std::string, std::string> cases[] = {
      {"abc reader kv.get:b\n", "tokens:1: expected the SHA-256"},
      {good + " reader\n", "tokens:1: expected HASH NAME GRANT"},
      {good + " reader kv.get:b extra\n", "tokens:1: expected HASH NAME GRANT"},
      {"\n" + good + " reader kv.write:b\n", "tokens:2: 'kv.write:b' is not a grant"},
      {good + " reader kv.get\n", "'kv.get' is not a grant"},
      {good + " reader kv.get:\n", "'kv.get:' is not a grant"},
      {good + " a kv.get:b\n" + good + " b kv.get:b\n", "tokens:2: the same token twice"},
  };
  for (const auto& [text, error] : cases) {
    Result<ClientTokens> parsed = ClientTokens::Parse(text, "tokens");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_NE(parsed.status().message().find(error), std::string::npos)
        << parsed.status().message();
  }
}

}  // namespace
}  // namespace ringkv
