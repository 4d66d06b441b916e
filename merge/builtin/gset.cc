// gset: a grow-only set. The value is its elements, one per line, each
// ended by '\n', sorted as bytes, no element twice; an element is any bytes
// but '\n'. The merge is the union.
#include <set>
#include <string>

#include "merge/builtin/text_plugin.h"

namespace ringkv::builtin {
namespace {

using Set = std::set<std::string, std::less<>>;

bool Parse(std::string_view text, Set* s) {
  std::vector<std::string_view> lines;
  if (!Lines(text, &lines)) return false;
  for (std::string_view e : lines) s->emplace(e);
  return true;
}

std::string Format(const Set& s) {
  std::string out;
  for (const std::string& e : s) out += e + "\n";
  return out;
}

int Merge(const rkv_host_api* host, void* host_ctx, const rkv_sibling* siblings, size_t count,
          rkv_bytes* out) {
  return MergeParsed<Set>(host, host_ctx, siblings, count, out, Parse, Format);
}

int Sample(const rkv_host_api* host, void* host_ctx, uint64_t seed, rkv_bytes* out) {
  return Guard([&] {
    uint64_t rng = seed;
    Set s;
    const uint64_t n = SplitMix(&rng) % 4;
    for (uint64_t i = 0; i < n; ++i) s.insert("e" + std::to_string(SplitMix(&rng) % 5));
    return Output(host, host_ctx, Format(s), out);
  });
}

const rkv_merge_plugin kPlugin = {sizeof(rkv_merge_plugin), RKV_MERGE_ABI_VERSION, "gset", 1, 0,
                                  &Merge, &Sample};

}  // namespace
}  // namespace ringkv::builtin

extern "C" RKV_MERGE_EXPORT const rkv_merge_plugin* ringkv_merge_plugin_entry(
    uint32_t host_abi_version) {
  return host_abi_version >= 1 ? &ringkv::builtin::kPlugin : nullptr;
}
