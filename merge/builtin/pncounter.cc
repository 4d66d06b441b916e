// pncounter: a counter that goes up and down, merged without losing an
// increment. The value is lines "<actor> <P> <N>\n", sorted by actor, one
// per actor, P and N decimal without leading zeros, no line with both 0:
// P is every increment `actor` made, N every decrement; the count is
// ΣP − ΣN. An actor (a client, a process: whoever increments) only ever
// raises its own line, from a value it read, so the merge (per actor, the
// greater P and the greater N) keeps every increment (docs/plugins.md).
#include <map>
#include <string>

#include "merge/builtin/text_plugin.h"

namespace ringkv::builtin {
namespace {

using Counter = std::map<std::string, std::pair<uint64_t, uint64_t>, std::less<>>;

bool Parse(std::string_view text, Counter* c) {
  std::vector<std::string_view> lines;
  if (!Lines(text, &lines)) return false;
  for (std::string_view line : lines) {
    const size_t a = line.find(' ');
    const size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
    if (b == std::string_view::npos) return false;
    const std::string_view actor = line.substr(0, a);
    uint64_t p = 0, n = 0;
    if (!IsName(actor) || !ParseU64(line.substr(a + 1, b - a - 1), &p) ||
        !ParseU64(line.substr(b + 1), &n)) {
      return false;
    }
    auto& entry = (*c)[std::string(actor)];
    entry.first = std::max(entry.first, p);
    entry.second = std::max(entry.second, n);
  }
  return true;
}

std::string Format(const Counter& c) {
  std::string out;
  for (const auto& [actor, pn] : c) {
    if (pn.first == 0 && pn.second == 0) continue;
    out += actor + " " + std::to_string(pn.first) + " " + std::to_string(pn.second) + "\n";
  }
  return out;
}

int Merge(const rkv_host_api* host, void* host_ctx, const rkv_sibling* siblings, size_t count,
          rkv_bytes* out) {
  return MergeParsed<Counter>(host, host_ctx, siblings, count, out, Parse, Format);
}

int Sample(const rkv_host_api* host, void* host_ctx, uint64_t seed, rkv_bytes* out) {
  return Guard([&] {
    uint64_t rng = seed;
    Counter c;
    const uint64_t actors = SplitMix(&rng) % 4;
    for (uint64_t i = 0; i < actors; ++i) {
      auto& e = c["a" + std::to_string(SplitMix(&rng) % 3)];
      e.first = SplitMix(&rng) % 4;
      e.second = SplitMix(&rng) % 3;
    }
    return Output(host, host_ctx, Format(c), out);
  });
}

const rkv_merge_plugin kPlugin = {sizeof(rkv_merge_plugin), RKV_MERGE_ABI_VERSION, "pncounter",
                                  1, 0, &Merge, &Sample};

}  // namespace
}  // namespace ringkv::builtin

extern "C" RKV_MERGE_EXPORT const rkv_merge_plugin* ringkv_merge_plugin_entry(
    uint32_t host_abi_version) {
  return host_abi_version >= 1 ? &ringkv::builtin::kPlugin : nullptr;
}
