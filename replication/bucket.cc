#include "replication/bucket.h"

#include <charconv>
#include <string>

#include "common/quorum.h"

namespace ringkv {
namespace {

Result<uint32_t> ParseCount(std::string_view text, std::string_view what) {
  uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return Status::InvalidArgument(std::string(what) + ": not a number: '" + std::string(text) + "'");
  }
  return v;
}

}  // namespace

const Resolver& ResolverOf(const BucketProps& props) {
  const Resolver* r = FindResolver(props.resolver);
  return r != nullptr ? *r : DefaultResolver();
}

Result<BucketProps> ParseBucketProps(std::string_view spec, BucketProps base) {
  BucketProps p = base;
  bool r_set = false, w_set = false;
  uint32_t r_raw = 0, w_raw = 0;
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument("bucket property '" + std::string(item) + "' is not key=value");
    }
    std::string_view k = item.substr(0, eq), v = item.substr(eq + 1);
    if (k == "resolver") {
      if (FindResolver(v) == nullptr) {
        std::string known;
        for (std::string_view name : ResolverNames()) {
          known += (known.empty() ? "" : " or ") + std::string(name);
        }
        return Status::InvalidArgument("unknown resolver '" + std::string(v) + "' (expected " +
                                       known + ")");
      }
      p.resolver = std::string(v);
    } else if (k == "n") {
      auto n = ParseCount(v, "n");
      if (!n.ok()) return n.status();
      if (*n == 0) return Status::InvalidArgument("n must be at least 1");
      p.n = *n;
    } else if (k == "r" || k == "w") {
      auto q = ParseQuorumArg(v);
      if (!q.ok()) return q.status();
      (k == "r" ? r_raw : w_raw) = *q;
      (k == "r" ? r_set : w_set) = true;
    } else {
      return Status::InvalidArgument("unknown bucket property '" + std::string(k) +
                                     "' (expected resolver, n, r, w)");
    }
  }
  // r and w resolve against the final n, whatever order they came in.
  if (!r_set && p.r > p.n) p.r = p.n / 2 + 1;
  if (!w_set && p.w > p.n) p.w = p.n / 2 + 1;
  if (r_set) {
    auto r = ResolveQuorum(r_raw, p.r, p.n, "r");
    if (!r.ok()) return r.status();
    p.r = *r;
  }
  if (w_set) {
    auto w = ResolveQuorum(w_raw, p.w, p.n, "w");
    if (!w.ok()) return w.status();
    p.w = *w;
  }
  return p;
}

std::string FormatBucketProps(const BucketProps& p) {
  return "resolver=" + p.resolver + ",n=" + std::to_string(p.n) +
         ",r=" + std::to_string(p.r) + ",w=" + std::to_string(p.w);
}

const BucketProps& BucketTable::Get(std::string_view bucket) const {
  auto it = buckets_.find(bucket);
  return it == buckets_.end() ? defaults_ : it->second;
}

}  // namespace ringkv
