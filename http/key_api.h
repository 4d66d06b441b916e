// KeyApi: GET, PUT and DELETE of /v1/buckets/{b}/keys/{k} (docs/http-api.md),
// turned into the client requests the binary protocol sends (GetRequest,
// PutRequest) and handed to the same entry point, Service::
// HandleClientRequest; their replies become HTTP responses. Knows nothing of
// sockets or evhttp. Single-threaded, on the node's loop.
#pragma once

#include <functional>
#include <string>

#include "http/response.h"
#include "http/route.h"
#include "proto/messages.h"

namespace ringkv::http {

// Sends one client request into the node; `reply` is called exactly once,
// possibly before this returns (Service::HandleClientRequest).
using ClientCall = std::function<void(Message request, std::function<void(Message reply)>)>;

enum class Method : uint8_t { kGet, kPut, kDelete, kOther };

struct KeyRequest {
  Method method = Method::kGet;
  std::string bucket, key;  // decoded
  std::string raw_query;
  bool has_context = false;
  std::string context;  // X-Ringkv-Context, as sent
  std::string accept;   // Accept, as sent
  // The conditional put's headers, as sent (docs/http-api.md, "Conditional
  // writes").
  bool has_if_match = false;
  std::string if_match;
  bool has_if_none_match = false;
  std::string if_none_match;
  std::string body;
  // The bearer token of the Authorization header ("" for none), carried in
  // every message as the binary protocol carries the client's.
  std::string token;
};

class KeyApi {
 public:
  explicit KeyApi(ClientCall call) : call_(std::move(call)) {}

  // Answers through `done`, exactly once, possibly before returning.
  void Handle(KeyRequest request, std::function<void(Response)> done);

 private:
  void Get(const KeyRequest& request, const KeyQuery& query, std::function<void(Response)> done);
  // `if_match`: a conditional put (PutRequest::if_match) with `context`.
  void Put(KeyRequest request, const KeyQuery& query, std::string context, bool if_match,
           std::function<void(Response)> done);
  void Delete(KeyRequest request, const KeyQuery& query, std::string context, bool if_match,
              std::function<void(Response)> done);

  ClientCall call_;
};

}  // namespace ringkv::http
