#include "http/route.h"

#include <charconv>
#include <set>
#include <vector>

#include "common/quorum.h"
#include "http/percent.h"

namespace ringkv::http {
namespace {

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

Result<std::string> Segment(std::string_view raw, const char* what) {
  if (raw.empty()) return Status::InvalidArgument(std::string("empty ") + what);
  Result<std::string> decoded = PercentDecode(raw);
  if (!decoded.ok()) {
    return Status::InvalidArgument(std::string(what) + ": " + decoded.status().message());
  }
  return decoded;
}

Result<uint32_t> ParseTimeout(std::string_view text) {
  uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v == 0 || v > kMaxTimeoutMs) {
    return Status::InvalidArgument("timeout_ms must be a number of milliseconds from 1 to " +
                                   std::to_string(kMaxTimeoutMs) + ", got '" +
                                   std::string(text) + "'");
  }
  return v;
}

}  // namespace

Result<Route> ParseRoute(std::string_view raw_path) {
  if (raw_path.empty() || raw_path == "/") return Route{RouteKind::kPage, "", ""};
  if (raw_path == "/livez") return Route{RouteKind::kLivez, "", ""};
  if (raw_path == "/readyz") return Route{RouteKind::kReadyz, "", ""};
  if (raw_path == "/metrics") return Route{RouteKind::kMetrics, "", ""};
  if (raw_path == "/v1/ring") return Route{RouteKind::kRing, "", ""};
  std::vector<std::string_view> parts = Split(raw_path, '/');
  // "", "v1", "buckets", b, ("keys", k | "props")
  if (parts.size() < 5 || !parts[0].empty() || parts[1] != "v1" || parts[2] != "buckets") {
    return Status::NotFound("no route " + std::string(raw_path.substr(0, 200)));
  }
  if (parts.size() == 5 && parts[4] == "props") {
    Result<std::string> bucket = Segment(parts[3], "bucket");
    if (!bucket.ok()) return bucket.status();
    return Route{RouteKind::kProps, std::move(bucket).value(), ""};
  }
  if (parts.size() == 6 && parts[4] == "keys") {
    Result<std::string> bucket = Segment(parts[3], "bucket");
    if (!bucket.ok()) return bucket.status();
    Result<std::string> key = Segment(parts[5], "key");
    if (!key.ok()) return key.status();
    return Route{RouteKind::kKey, std::move(bucket).value(), std::move(key).value()};
  }
  if (parts.size() > 6 && parts[4] == "keys") {
    return Status::InvalidArgument(
        "a key is one path segment: write '/' inside a key as %2F");
  }
  return Status::NotFound("no route " + std::string(raw_path.substr(0, 200)));
}

Result<KeyQuery> ParseKeyQuery(std::string_view raw_query, QueryFor method) {
  KeyQuery query;
  if (raw_query.empty()) return query;
  std::set<std::string> seen;
  for (std::string_view pair : Split(raw_query, '&')) {
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    Result<std::string> name = PercentDecode(pair.substr(0, eq));
    if (!name.ok()) return Status::InvalidArgument("query: " + name.status().message());
    Result<std::string> value =
        PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!value.ok()) return Status::InvalidArgument("query: " + value.status().message());
    const std::string shown = name->substr(0, 64);
    if (!seen.insert(*name).second) {
      return Status::InvalidArgument("query parameter " + shown + " given twice");
    }
    const bool reads = method != QueryFor::kWrite;
    const bool writes = method != QueryFor::kRead;
    uint32_t* quorum = nullptr;
    if (*name == "r" && reads) quorum = &query.r;
    if (*name == "pr" && reads) quorum = &query.pr;
    if (*name == "w" && writes) quorum = &query.w;
    if (*name == "pw" && writes) quorum = &query.pw;
    if (quorum != nullptr) {
      Result<uint32_t> v = ParseQuorumArg(*value);
      if (!v.ok()) return Status::InvalidArgument(shown + ": " + v.status().message());
      *quorum = *v;
    } else if (*name == "timeout_ms") {
      Result<uint32_t> v = ParseTimeout(*value);
      if (!v.ok()) return v.status();
      query.timeout_ms = *v;
    } else if (*name == "r" || *name == "pr" || *name == "w" || *name == "pw") {
      return Status::InvalidArgument("query parameter " + shown + " does not apply to " +
                                     (reads ? "a read" : "a write"));
    } else {
      return Status::InvalidArgument("unknown query parameter '" + shown +
                                     "' (r, pr, w, pw, timeout_ms)");
    }
  }
  return query;
}

}  // namespace ringkv::http
