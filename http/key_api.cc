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
Result<std::string> ContextBytes(const KeyRequest& request) {
  if (!request.has_context || request.context.empty()) return std::string();
  if (request.context.size() > 4 * kMaxContextBytes / 3 + 4) {
    return Status::InvalidArgument("context too long");
  }
  Result<std::string> bytes = ContextFromText(request.context);
  if (!bytes.ok()) return bytes.status();
  Result<ClientContext> context = DecodeContext(*bytes);
  if (!context.ok()) return Status::InvalidArgument("bad context: " + context.status().message());
  RINGKV_RETURN_IF_ERROR(CheckContextKey(*context, request.bucket, request.key));
  return bytes;
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
  if (!context.empty()) r.headers.emplace_back(kContextHeader, context);
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
  r.headers.emplace_back(kContextHeader,
                         ContextToText(EncodeContext(reply.object.context, bucket, key)));
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
  Result<std::string> context = ContextBytes(request);
  if (!context.ok()) return done(ErrorResponse(400, "bad_context", context.status().message()));
  switch (request.method) {
    case Method::kGet:
      return Get(request, *query, std::move(done));
    case Method::kPut:
      if (request.body.size() > kMaxValueBytes) {
        return done(ErrorResponse(413, "value_too_large",
                                  "a value is at most " + std::to_string(kMaxValueBytes) +
                                      " bytes, got " + std::to_string(request.body.size())));
      }
      return Put(std::move(request), *query, std::move(context).value(), std::move(done));
    default:
      return Delete(std::move(request), *query, std::move(context).value(), std::move(done));
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

void KeyApi::Put(KeyRequest request, const KeyQuery& query, std::string context,
                 std::function<void(Response)> done) {
  PutRequest put;
  put.bucket = request.bucket;
  put.key = request.key;
  put.value = std::move(request.body);
  put.tombstone = request.method == Method::kDelete;
  put.context = std::move(context);
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
                    std::function<void(Response)> done) {
  request.body.clear();
  if (!context.empty()) return Put(std::move(request), query, std::move(context), std::move(done));
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
                                std::move(done));
  });
}

}  // namespace ringkv::http
