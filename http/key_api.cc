#include "http/key_api.h"

#include <memory>
#include <utility>

#include "causality/object_codec.h"
#include "causality/object_limits.h"
#include "client/context_text.h"
#include "http/errors.h"
#include "proto/request_limits.h"
#include "http/sibling_body.h"

namespace ringkv::http {
namespace {

constexpr const char* kContextHeader = "X-Ringkv-Context";

// The context text from the header, checked to be a context of this key;
// "" for none.
// `text` is a context as a client sends it (empty: none), checked to be
// one of (bucket, key).
Result<std::string> ContextBytes(std::string_view text, std::string_view bucket,
                                 std::string_view key) {
  if (text.empty()) return std::string();
  if (text.size() > 4 * kMaxContextBytes / 3 + 4) return Status::InvalidArgument("context too long");
  Result<std::string> bytes = ContextFromText(text);
  if (!bytes.ok()) return bytes.status();
  Result<ClientContext> context = DecodeContext(*bytes);
  if (!context.ok()) return Status::InvalidArgument("bad context: " + context.status().message());
  RINGKV_RETURN_IF_ERROR(CheckContextKey(*context, bucket, key));
  return bytes;
}

std::string_view ContextText(const KeyRequest& request) {
  return request.has_context ? std::string_view(request.context) : std::string_view();
}

// What a write's headers ask: its context (bytes, checked) and whether it
// is conditional.
struct WriteCondition {
  std::string context;
  bool if_match = false;
};

std::string_view Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The If-Match and If-None-Match of a PUT or DELETE, with X-Ringkv-Context:
//   If-Match: <context>   (or "<context>", the ETag of a read): written only
//                         if the key holds nothing that read did not see
//   If-None-Match: *      (PUT): written only if the key holds no value
// The condition, or the 400 to answer: bad_request for headers that ask
// something else, bad_context for a context that does not decode or is
// another key's.
Result<WriteCondition> ConditionOf(const KeyRequest& request, Response* refusal) {
  auto bad = [refusal](const char* code, const std::string& why) {
    *refusal = ErrorResponse(400, code, why);
    return Status::InvalidArgument(why);
  };
  WriteCondition c;
  if (request.has_if_none_match) {
    if (Trimmed(request.if_none_match) != "*") {
      return bad("bad_request", "If-None-Match takes only * (create the key if it holds no value)");
    }
    if (request.method != Method::kPut) return bad("bad_request", "If-None-Match: * applies to a PUT");
    if (request.has_if_match || (request.has_context && !request.context.empty())) {
      return bad("bad_request",
                 "If-None-Match: * writes a key that holds no value: it takes no context");
    }
    c.if_match = true;
    return c;
  }
  std::string_view context = ContextText(request);
  if (request.has_if_match) {
    std::string_view tag = Trimmed(request.if_match);
    if (tag == "*") {
      return bad("bad_request",
                 "If-Match: * is not supported: give the context (ETag) of a read of the key");
    }
    if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') {
      tag = tag.substr(1, tag.size() - 2);
    }
    if (tag.empty() || tag.find_first_of("\", \t") != std::string_view::npos) {
      return bad("bad_request",
                 "If-Match takes one context (the X-Ringkv-Context or ETag of a read)");
    }
    if (!context.empty() && context != tag) {
      return bad("bad_request", "If-Match and X-Ringkv-Context name different contexts");
    }
    context = tag;
    c.if_match = true;
  }
  Result<std::string> bytes = ContextBytes(context, request.bucket, request.key);
  if (!bytes.ok()) return bad("bad_context", bytes.status().message());
  c.context = std::move(*bytes);
  return c;
}

// The context as response headers: X-Ringkv-Context, and the same as the
// ETag a standard client sends back in If-Match.
void AddContextHeaders(const std::string& context, Response* r) {
  r->headers.emplace_back(kContextHeader, context);
  r->headers.emplace_back("ETag", "\"" + context + "\"");
}

bool Accepts(const std::string& accept, std::string_view type) {
  return accept.find(type) != std::string::npos;
}

// The reply's status when it is an error reply or the wrong message.
const Status* ErrorOf(const Message& reply, Status* holder) {
  if (const auto* error = std::get_if<ErrorReply>(&reply.body)) {
    *holder = error->status;
    return holder;
  }
  return nullptr;
}

Response ReadResponse(const GetReply& reply, const std::string& bucket, const std::string& key,
                      const std::string& accept) {
  if (!reply.status.ok()) return ErrorFromStatus(reply.status);
  const std::string context =
      reply.found ? ContextToText(EncodeContext(reply.object.context, bucket, key)) : "";
  std::vector<const Sibling*> values = reply.found ? reply.object.Values() : std::vector<const Sibling*>{};
  Response r;
  if (!context.empty()) AddContextHeaders(context, &r);
  if (values.empty()) {
    Response missing = ErrorResponse(404, "not_found", reply.found ? "deleted" : "not found");
    missing.headers = r.headers;
    return missing;
  }
  if (values.size() == 1 && !Accepts(accept, "application/json") &&
      !Accepts(accept, "multipart/mixed")) {
    r.status = 200;
    r.content_type = "application/octet-stream";
    r.body = values[0]->value;
    return r;
  }
  r.status = values.size() == 1 ? 200 : 300;
  if (Accepts(accept, "multipart/mixed")) {
    Multipart parts = SiblingsMultipart(values);
    r.content_type = "multipart/mixed; boundary=" + parts.boundary;
    r.body = std::move(parts.body);
  } else {
    r.content_type = "application/json";
    r.body = SiblingsJson(values, context);
  }
  return r;
}

Response WriteResponse(const PutReply& reply, const std::string& bucket, const std::string& key) {
  if (!reply.status.ok()) return ErrorFromStatus(reply.status);
  Response r;
  r.status = 204;
  r.content_type.clear();
  AddContextHeaders(ContextToText(EncodeContext(reply.object.context, bucket, key)), &r);
  return r;
}

Response Unexpected(const Message& reply) {
  Status error;
  if (ErrorOf(reply, &error) != nullptr) return ErrorFromStatus(error);
  return ErrorResponse(500, "internal", std::string("unexpected reply ") + MessageName(reply.body));
}

}  // namespace

void KeyApi::Handle(KeyRequest request, std::function<void(Response)> done) {
  const QueryFor query_for = request.method == Method::kGet   ? QueryFor::kRead
                             : request.method == Method::kPut ? QueryFor::kWrite
                                                              : QueryFor::kDelete;
  if (request.method == Method::kOther) {
    Response r = ErrorResponse(405, "method_not_allowed", "a key takes GET, PUT or DELETE");
    r.headers.emplace_back("Allow", "GET, PUT, DELETE");
    return done(std::move(r));
  }
  Result<KeyQuery> query = ParseKeyQuery(request.raw_query, query_for);
  if (!query.ok()) return done(ErrorResponse(400, "bad_request", query.status().message()));
  if (request.method == Method::kGet) {
    // A read is never conditional: If-Match and If-None-Match are for
    // writes, and a GET ignores them.
    Result<std::string> context = ContextBytes(ContextText(request), request.bucket, request.key);
    if (!context.ok()) return done(ErrorResponse(400, "bad_context", context.status().message()));
    return Get(request, *query, std::move(done));
  }
  Response refusal;
  Result<WriteCondition> condition = ConditionOf(request, &refusal);
  if (!condition.ok()) return done(std::move(refusal));
  switch (request.method) {
    case Method::kPut:
      if (request.body.size() > kMaxValueBytes) {
        return done(ErrorResponse(413, "value_too_large",
                                  "a value is at most " + std::to_string(kMaxValueBytes) +
                                      " bytes, got " + std::to_string(request.body.size())));
      }
      return Put(std::move(request), *query, std::move(condition->context), condition->if_match,
                 std::move(done));
    default:
      return Delete(std::move(request), *query, std::move(condition->context),
                    condition->if_match, std::move(done));
  }
}

void KeyApi::Get(const KeyRequest& request, const KeyQuery& query,
                 std::function<void(Response)> done) {
  Message m;
  m.timeout_ms = query.timeout_ms;
  m.auth_token = request.token;
  m.body = GetRequest{request.bucket, request.key, query.r, query.pr};
  call_(std::move(m), [bucket = request.bucket, key = request.key, accept = request.accept,
                       done = std::move(done)](Message reply) {
    const auto* get = std::get_if<GetReply>(&reply.body);
    done(get != nullptr ? ReadResponse(*get, bucket, key, accept) : Unexpected(reply));
  });
}

void KeyApi::Put(KeyRequest request, const KeyQuery& query, std::string context, bool if_match,
                 std::function<void(Response)> done) {
  PutRequest put;
  put.bucket = request.bucket;
  put.key = request.key;
  put.value = std::move(request.body);
  put.tombstone = request.method == Method::kDelete;
  put.context = std::move(context);
  put.if_match = if_match;
  put.w = query.w;
  put.pw = query.pw;
  Message m;
  m.timeout_ms = query.timeout_ms;
  m.auth_token = request.token;
  m.body = std::move(put);
  call_(std::move(m),
        [bucket = std::move(request.bucket), key = std::move(request.key),
         done = std::move(done)](Message reply) {
          const auto* p = std::get_if<PutReply>(&reply.body);
          done(p != nullptr ? WriteResponse(*p, bucket, key) : Unexpected(reply));
        });
}

void KeyApi::Delete(KeyRequest request, const KeyQuery& query, std::string context,
                    bool if_match, std::function<void(Response)> done) {
  request.body.clear();
  if (!context.empty()) {
    return Put(std::move(request), query, std::move(context), if_match, std::move(done));
  }
  // A tombstone without a context would be one more sibling beside the
  // values: read first, as the CLI does, so the delete covers what is there.
  Message m;
  m.timeout_ms = query.timeout_ms;
  m.auth_token = request.token;
  m.body = GetRequest{request.bucket, request.key, query.r, query.pr};
  auto shared = std::make_shared<KeyRequest>(std::move(request));
  // The reply may come after this KeyApi is gone (a node shutting down):
  // the continuation holds its own copy of the entry point.
  call_(std::move(m), [call = call_, shared, query, done = std::move(done)](Message reply) mutable {
    const auto* get = std::get_if<GetReply>(&reply.body);
    if (get == nullptr) return done(Unexpected(reply));
    if (!get->status.ok()) return done(ErrorFromStatus(get->status));
    std::string read_context =
        get->found ? EncodeContext(get->object.context, shared->bucket, shared->key) : "";
    KeyApi(std::move(call)).Put(std::move(*shared), query, std::move(read_context),
                                /*if_match=*/false, std::move(done));
  });
}

}  // namespace ringkv::http
