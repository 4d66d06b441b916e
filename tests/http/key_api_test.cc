#include "http/key_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <optional>

#include "causality/object_codec.h"
#include "causality/object_limits.h"
#include "client/context_text.h"

namespace ringkv::http {
namespace {

// Records what the API sends and answers with the next canned reply.
struct FakeNode {
  std::vector<Message> sent;
  std::vector<MessageBody> replies;
  ClientCall Call() {
    return [this](Message m, std::function<void(Message)> reply) {
      sent.push_back(m);
      Message r;
      r.body = replies.at(sent.size() - 1);
      reply(std::move(r));
    };
  }
};

Object TwoSiblings() {
  Object o;
  o.context.Set(Actor{"n1", 1}, 2);
  o.siblings.push_back(Sibling{Dot{Actor{"n1", 1}, 1}, 10, false, "a", {}});
  o.siblings.push_back(Sibling{Dot{Actor{"n1", 1}, 2}, 11, false, "b", {}});
  return o;
}

Response Answer(FakeNode& node, KeyRequest request) {
  Response out;
  bool answered = false;
  KeyApi(node.Call()).Handle(std::move(request), [&](Response r) {
    out = std::move(r);
    answered = true;
  });
  EXPECT_TRUE(answered);
  return out;
}

KeyRequest Req(Method method, std::string query = "") {
  KeyRequest r;
  r.method = method;
  r.bucket = "b";
  r.key = "k";
  r.raw_query = std::move(query);
  return r;
}

TEST(KeyApiTest, GetOfSiblingsIs300WithJsonOrMultipartAndTheContext) {
  FakeNode node;
  node.replies = {GetReply{Status::OK(), true, TwoSiblings()}, GetReply{Status::OK(), true, TwoSiblings()}};
  Response json = Answer(node, Req(Method::kGet, "r=3&pr=1&timeout_ms=77"));
  ASSERT_EQ(node.sent.size(), 1u);
  const auto& get = std::get<GetRequest>(node.sent[0].body);
  EXPECT_EQ(get.r, 3u);
  EXPECT_EQ(get.pr, 1u);
  EXPECT_EQ(node.sent[0].timeout_ms, 77u);
  EXPECT_EQ(json.status, 300);
  const std::string context = ContextToText(EncodeContext(TwoSiblings().context, "b", "k"));
  EXPECT_EQ(json.Header("X-Ringkv-Context"), context);
  EXPECT_EQ(nlohmann::json::parse(json.body)["siblings"].size(), 2u);
  KeyRequest multi = Req(Method::kGet);
  multi.accept = "multipart/mixed";
  Response parts = Answer(node, multi);
  EXPECT_EQ(parts.status, 300);
  EXPECT_EQ(parts.content_type.rfind("multipart/mixed; boundary=", 0), 0u);
}

TEST(KeyApiTest, OneValueIsItsBytesAndADeletedKeyIs404WithItsContext) {
  Object one = TwoSiblings();
  one.siblings.pop_back();
  Object deleted = TwoSiblings();
  for (Sibling& s : deleted.siblings) {
    s.tombstone = true;
    s.value.clear();
  }
  FakeNode node;
  node.replies = {GetReply{Status::OK(), true, one}, GetReply{Status::OK(), true, deleted},
                  GetReply{Status::OK(), false, {}}};
  Response value = Answer(node, Req(Method::kGet));
  EXPECT_EQ(value.status, 200);
  EXPECT_EQ(value.body, "a");
  EXPECT_EQ(value.content_type, "application/octet-stream");
  Response gone = Answer(node, Req(Method::kGet));
  EXPECT_EQ(gone.status, 404);
  EXPECT_FALSE(gone.Header("X-Ringkv-Context").empty());
  Response never = Answer(node, Req(Method::kGet));
  EXPECT_EQ(never.status, 404);
  EXPECT_TRUE(never.Header("X-Ringkv-Context").empty());
}

TEST(KeyApiTest, PutCarriesQuorumsAndTheDecodedContext) {
  FakeNode node;
  node.replies = {PutReply{Status::OK(), TwoSiblings()}};
  KeyRequest put = Req(Method::kPut, "w=all&pw=2");
  put.body = "value";
  put.has_context = true;
  const std::string context_bytes = EncodeContext(TwoSiblings().context, "b", "k");
  put.context = ContextToText(context_bytes);
  Response r = Answer(node, put);
  EXPECT_EQ(r.status, 204);
  const auto& sent = std::get<PutRequest>(node.sent.at(0).body);
  EXPECT_EQ(sent.value, "value");
  EXPECT_EQ(sent.context, context_bytes);
  EXPECT_EQ(sent.w, kQuorumAll);
  EXPECT_EQ(sent.pw, 2u);
  EXPECT_FALSE(sent.tombstone);
  EXPECT_FALSE(r.Header("X-Ringkv-Context").empty());
}

TEST(KeyApiTest, DeleteWithoutAContextReadsFirstAndCoversWhatItRead) {
  FakeNode node;
  node.replies = {GetReply{Status::OK(), true, TwoSiblings()}, PutReply{Status::OK(), TwoSiblings()}};
  Response r = Answer(node, Req(Method::kDelete));
  EXPECT_EQ(r.status, 204);
  ASSERT_EQ(node.sent.size(), 2u);
  const auto& tombstone = std::get<PutRequest>(node.sent[1].body);
  EXPECT_TRUE(tombstone.tombstone);
  EXPECT_EQ(tombstone.context, EncodeContext(TwoSiblings().context, "b", "k"));
}

TEST(KeyApiTest, NodeErrorsBecomeTypedStatuses) {
  const std::vector<std::pair<Status, std::pair<int, std::string>>> cases = {
      {Status::Unavailable("1 of 2"), {503, "quorum_unavailable"}},
      {Status::Timeout("late"), {504, "timeout"}},
      {Status::ObjectTooLarge("big"), {413, "object_too_large"}},
      {Status::InvalidArgument("r > n"), {400, "bad_request"}},
      {Status::IOError("disk"), {500, "internal"}},
  };
  for (const auto& [status, expected] : cases) {
    FakeNode node;
    node.replies = {PutReply{status, {}}};
    KeyRequest put = Req(Method::kPut);
    Response r = Answer(node, put);
    EXPECT_EQ(r.status, expected.first) << status.ToString();
    EXPECT_EQ(nlohmann::json::parse(r.body)["error"], expected.second);
  }
  FakeNode node;
  node.replies = {ErrorReply{Status::Busy("full")}};
  EXPECT_EQ(Answer(node, Req(Method::kGet)).status, 503);
}

TEST(KeyApiTest, HostileRequestsNeverReachTheNode) {
  FakeNode node;
  KeyRequest big = Req(Method::kPut);
  big.body.assign(kMaxValueBytes + 1, 'x');
  Response r = Answer(node, big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "value_too_large");
  KeyRequest bad_context = Req(Method::kGet);
  bad_context.has_context = true;
  bad_context.context = "not base64!";
  EXPECT_EQ(Answer(node, bad_context).status, 400);
  KeyRequest foreign = Req(Method::kPut);
  foreign.has_context = true;
  foreign.context = ContextToText(EncodeContext(TwoSiblings().context, "b", "another key"));
  Response wrong_key = Answer(node, foreign);
  EXPECT_EQ(wrong_key.status, 400);
  EXPECT_EQ(nlohmann::json::parse(wrong_key.body)["error"], "bad_context");
  EXPECT_EQ(Answer(node, Req(Method::kGet, "r=banana")).status, 400);
  EXPECT_EQ(Answer(node, Req(Method::kOther)).status, 405);
  EXPECT_TRUE(node.sent.empty());
}


// Conditional writes (docs/http-api.md, "Conditional writes"): If-Match
// carries the context of a read, bare or as the quoted ETag, and makes the
// put conditional; If-None-Match: * is a create-only put; the node's
// precondition_failed is 412.
TEST(KeyApiTest, IfMatchSendsAConditionalPutWithThatReadsContext) {
  const std::string context_bytes = EncodeContext(TwoSiblings().context, "b", "k");
  const std::string text = ContextToText(context_bytes);
  for (const std::string& header : {text, "\"" + text + "\"", " \"" + text + "\" "}) {
    FakeNode node;
    node.replies = {PutReply{Status::OK(), TwoSiblings()}};
    KeyRequest put = Req(Method::kPut);
    put.body = "v2";
    put.has_if_match = true;
    put.if_match = header;
    Response r = Answer(node, put);
    EXPECT_EQ(r.status, 204) << header;
    ASSERT_EQ(node.sent.size(), 1u);
    const auto& sent = std::get<PutRequest>(node.sent[0].body);
    EXPECT_TRUE(sent.if_match);
    EXPECT_EQ(sent.context, context_bytes);
    EXPECT_EQ(sent.value, "v2");
    // The new context, also as the ETag the next If-Match sends back.
    EXPECT_EQ(r.Header("ETag"), "\"" + r.Header("X-Ringkv-Context") + "\"");
  }
}

TEST(KeyApiTest, AStaleContextIs412AndAReadCarriesItsContextAsETag) {
  FakeNode node;
  node.replies = {PutReply{Status::PreconditionFailed("b/k changed since the read"), {}},
                  GetReply{Status::OK(), true, TwoSiblings()}};
  KeyRequest put = Req(Method::kPut);
  put.has_if_match = true;
  put.if_match = ContextToText(EncodeContext(TwoSiblings().context, "b", "k"));
  Response r = Answer(node, put);
  EXPECT_EQ(r.status, 412);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "precondition_failed");
  Response read = Answer(node, Req(Method::kGet));
  EXPECT_EQ(read.Header("ETag"), "\"" + put.if_match + "\"");
}

TEST(KeyApiTest, IfNoneMatchStarIsACreateOnlyPut) {
  FakeNode node;
  node.replies = {PutReply{Status::OK(), TwoSiblings()},
                  PutReply{Status::PreconditionFailed("b/k holds a value"), {}}};
  KeyRequest create = Req(Method::kPut);
  create.body = "first";
  create.has_if_none_match = true;
  create.if_none_match = "*";
  EXPECT_EQ(Answer(node, create).status, 204);
  const auto& sent = std::get<PutRequest>(node.sent.at(0).body);
  EXPECT_TRUE(sent.if_match);
  EXPECT_TRUE(sent.context.empty());
  EXPECT_EQ(Answer(node, create).status, 412);
}

TEST(KeyApiTest, DeleteWithIfMatchIsAConditionalTombstoneWithoutARead) {
  FakeNode node;
  node.replies = {PutReply{Status::OK(), TwoSiblings()}};
  KeyRequest del = Req(Method::kDelete);
  del.has_if_match = true;
  del.if_match = ContextToText(EncodeContext(TwoSiblings().context, "b", "k"));
  EXPECT_EQ(Answer(node, del).status, 204);
  ASSERT_EQ(node.sent.size(), 1u);
  const auto& tombstone = std::get<PutRequest>(node.sent[0].body);
  EXPECT_TRUE(tombstone.tombstone);
  EXPECT_TRUE(tombstone.if_match);
}

TEST(KeyApiTest, ConditionsThatAskSomethingElseAre400AndNeverReachTheNode) {
  const std::string text = ContextToText(EncodeContext(TwoSiblings().context, "b", "k"));
  const std::string other = ContextToText(EncodeContext(TwoSiblings().context, "b", "other"));
  struct Case {
    Method method;
    std::optional<std::string> if_match, if_none_match, context;
    std::string error;
  };
  const std::vector<Case> cases = {
      {Method::kPut, "*", {}, {}, "bad_request"},
      {Method::kPut, "", {}, {}, "bad_request"},
      {Method::kPut, "\"\"", {}, {}, "bad_request"},
      {Method::kPut, text + ", " + text, {}, {}, "bad_request"},
      {Method::kPut, "W/\"" + text + "\"", {}, {}, "bad_request"},
      {Method::kPut, text, {}, text + "x", "bad_request"},
      {Method::kPut, "not-base64!", {}, {}, "bad_context"},
      {Method::kPut, other, {}, {}, "bad_context"},
      {Method::kPut, std::string(100'000, 'A'), {}, {}, "bad_context"},
      {Method::kPut, {}, "\"abc\"", {}, "bad_request"},
      {Method::kPut, {}, "*", text, "bad_request"},
      {Method::kPut, text, "*", {}, "bad_request"},
      {Method::kDelete, {}, "*", {}, "bad_request"},
  };
  for (const Case& c : cases) {
    FakeNode node;
    KeyRequest r = Req(c.method);
    r.has_if_match = c.if_match.has_value();
    r.if_match = c.if_match.value_or("");
    r.has_if_none_match = c.if_none_match.has_value();
    r.if_none_match = c.if_none_match.value_or("");
    r.has_context = c.context.has_value();
    r.context = c.context.value_or("");
    Response answer = Answer(node, r);
    EXPECT_EQ(answer.status, 400) << r.if_match.substr(0, 40) << " / " << r.if_none_match;
    EXPECT_EQ(nlohmann::json::parse(answer.body)["error"], c.error)
        << r.if_match.substr(0, 40) << " / " << r.if_none_match;
    EXPECT_TRUE(node.sent.empty());
  }
}

TEST(KeyApiTest, AReadIgnoresConditions) {
  FakeNode node;
  node.replies = {GetReply{Status::OK(), true, TwoSiblings()}};
  KeyRequest get = Req(Method::kGet);
  get.has_if_match = true;
  get.if_match = "*";
  get.has_if_none_match = true;
  get.if_none_match = "whatever";
  EXPECT_EQ(Answer(node, get).status, 300);
}

}  // namespace
}  // namespace ringkv::http
