// Route: what an HTTP request asks for, read from its raw path and query
// (docs/http-api.md). The path is split on '/' before each segment is
// percent-decoded, so a '/' inside a key travels as %2F and never splits
// it. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ringkv::http {

enum class RouteKind : uint8_t {
  kPage,     // GET /
  kLivez,    // GET /livez
  kReadyz,   // GET /readyz
  kMetrics,  // GET /metrics
  kRing,     // GET /v1/ring
  kKey,      // /v1/buckets/{b}/keys/{k}
  kProps,    // GET /v1/buckets/{b}/props
};

struct Route {
  RouteKind kind = RouteKind::kPage;
  std::string bucket;  // decoded bytes (kKey, kProps)
  std::string key;     // decoded bytes (kKey)
};

// NotFound for a path naming no route; InvalidArgument for a route whose
// segments are empty or badly percent-encoded.
Result<Route> ParseRoute(std::string_view raw_path);

// The query of a key request: quorums as common/quorum.h values
// (kQuorumDefault when absent) and the deadline (0 = the node's default).
struct KeyQuery {
  uint32_t r = 0, pr = 0, w = 0, pw = 0;
  uint32_t timeout_ms = 0;
};

inline constexpr uint32_t kMaxTimeoutMs = 3'600'000;

// `raw_query` as it came (may be empty). `write`: the request writes (PUT,
// DELETE), so it takes w and pw; a read takes r and pr. DELETE takes both,
// since without a context it reads first. InvalidArgument naming the first
// parameter that is unknown, repeated, not for this method, or badly
// valued.
enum class QueryFor : uint8_t { kRead, kWrite, kDelete };
Result<KeyQuery> ParseKeyQuery(std::string_view raw_query, QueryFor method);

}  // namespace ringkv::http
