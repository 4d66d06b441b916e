#include "replication/bucket.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <string>

#include "common/quorum.h"
#include "ring/ring_state.h"

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

bool IsMergeResolverName(std::string_view name) {
  constexpr std::string_view kPrefix = "merge:";
  if (!name.starts_with(kPrefix)) return false;
  const std::string_view plugin = name.substr(kPrefix.size());
  if (plugin.empty() || plugin.size() > 32) return false;
  for (char c : plugin) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

const Resolver& BucketTable::ResolverFor(std::string_view bucket) const {
  const BucketProps& props = Get(bucket);
  if (catalog_ != nullptr && IsMergeResolverName(props.resolver)) {
    if (const Resolver* r =
            catalog_->Find(props.resolver, props.plugin_version, props.plugin_hash)) {
      return *r;
    }
  }
  return ResolverOf(props);
}

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
      if (FindResolver(v) == nullptr && !IsMergeResolverName(v)) {
        std::string known;
        for (std::string_view name : ResolverNames()) known += std::string(name) + ", ";
        return Status::InvalidArgument("unknown resolver '" + std::string(v) + "' (expected " +
                                       known + "or merge:<plugin>, the plugin's name made of "
                                       "a-z, 0-9 and _)");
      }
      p.resolver = std::string(v);
    } else if (k == "n") {
      auto n = ParseCount(v, "n");
      if (!n.ok()) return n.status();
      if (*n == 0) return Status::InvalidArgument("n must be at least 1");
      p.n = *n;
    } else if (k == "r" || k == "w") {
      auto q = ParseQuorumArg(v);
      if (!q.ok()) return Status::InvalidArgument(std::string(k) + ": " + q.status().message());
      (k == "r" ? r_raw : w_raw) = *q;
      (k == "r" ? r_set : w_set) = true;
    } else if (k == "plugin_version") {
      auto version = ParseCount(v, k);
      if (!version.ok()) return version.status();
      p.plugin_version = *version;
    } else if (k == "plugin_hash") {
      const bool hex = std::all_of(v.begin(), v.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      });
      if (!hex || v.size() < 8 || v.size() > 64) {
        return Status::InvalidArgument("plugin_hash must be 8 to 64 lower-case hex digits of "
                                       "the plugin's SHA-256");
      }
      p.plugin_hash = std::string(v);
    } else if (k == "max_siblings" || k == "warn_siblings") {
      auto cap = ParseCount(v, k);
      if (!cap.ok()) return cap.status();
      if (*cap == 0 || *cap > kMaxSiblingCap) {
        return Status::InvalidArgument(std::string(k) + " must be 1.." +
                                       std::to_string(kMaxSiblingCap));
      }
      (k == "max_siblings" ? p.max_siblings : p.warn_siblings) = *cap;
    } else {
      return Status::InvalidArgument("unknown bucket property '" + std::string(k) +
                                     "' (expected resolver, n, r, w, max_siblings, "
                                     "warn_siblings, plugin_version, plugin_hash)");
    }
  }
  // A warning past the cap would never be heard.
  if (p.warn_siblings > p.max_siblings) p.warn_siblings = p.max_siblings;
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
  std::string text = "resolver=" + p.resolver + ",n=" + std::to_string(p.n) +
                     ",r=" + std::to_string(p.r) + ",w=" + std::to_string(p.w);
  // The sibling caps only when chosen, so the text of a bucket that never
  // chose them reads as it always did.
  const BucketProps defaults;
  if (p.max_siblings != defaults.max_siblings || p.warn_siblings != defaults.warn_siblings) {
    text += ",max_siblings=" + std::to_string(p.max_siblings) +
            ",warn_siblings=" + std::to_string(p.warn_siblings);
  }
  if (p.plugin_version != 0) text += ",plugin_version=" + std::to_string(p.plugin_version);
  if (!p.plugin_hash.empty()) text += ",plugin_hash=" + p.plugin_hash;
  return text;
}

static_assert(kMaxSiblingCap == kMaxStateSiblingCap);

void BucketTable::Assign(const std::vector<BucketInfo>& buckets) {
  std::set<std::string, std::less<>> named;
  for (const BucketInfo& b : buckets) {
    if (b.name.empty()) {
      defaults_ = BucketPropsOf(b);
    } else {
      buckets_[b.name] = BucketPropsOf(b);
      named.insert(b.name);
    }
  }
  std::erase_if(buckets_, [&named](const auto& entry) { return named.count(entry.first) == 0; });
}

BucketInfo BucketInfoOf(const std::string& name, const BucketProps& p) {
  return BucketInfo{name,          p.n,           p.r,
                    p.w,           p.resolver,    p.max_siblings,
                    p.warn_siblings, p.plugin_version, p.plugin_hash};
}

BucketProps BucketPropsOf(const BucketInfo& b) {
  BucketProps p;
  p.n = b.n;
  p.r = b.r;
  p.w = b.w;
  p.resolver = b.resolver;
  p.max_siblings = b.max_siblings;
  p.warn_siblings = b.warn_siblings;
  p.plugin_version = b.plugin_version;
  p.plugin_hash = b.plugin_hash;
  return p;
}

std::vector<BucketInfo> BucketInfos(const BucketTable& table) {
  std::vector<BucketInfo> out{BucketInfoOf("", table.defaults())};
  for (const auto& [name, props] : table.named()) out.push_back(BucketInfoOf(name, props));
  return out;
}

const BucketProps& BucketTable::Get(std::string_view bucket) const {
  auto it = buckets_.find(bucket);
  return it == buckets_.end() ? defaults_ : it->second;
}

}  // namespace ringkv
