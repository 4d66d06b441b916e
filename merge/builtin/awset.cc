// awset: an add-wins set (an observed-remove set). Every add of an element
// carries a tag no other add uses (the writer makes it unique: its name and
// a counter); a remove names the tags of the adds it saw, from the value it
// read (its read context). So a remove never cancels an add it did not see,
// and a concurrent add wins. The value is lines, sorted as bytes:
//   "+ <tag> <element>\n"   an add not removed
//   "- <tag>\n"             a removed add (kept, so the add stays removed)
// tags 1..64 of [A-Za-z0-9_.:-], elements any bytes but '\n'. The set is
// the elements of the "+" lines. The merge is the union of both kinds,
// dropping the adds a remove names.
#include <map>
#include <set>
#include <string>

#include "merge/builtin/text_plugin.h"

namespace ringkv::builtin {
namespace {

struct State {
  std::map<std::string, std::string, std::less<>> adds;  // tag -> element
  std::set<std::string, std::less<>> removed;            // tags
};

bool Parse(std::string_view text, State* s) {
  std::vector<std::string_view> lines;
  if (!Lines(text, &lines)) return false;
  for (std::string_view line : lines) {
    if (line.size() < 3 || line[1] != ' ') return false;
    std::string_view rest = line.substr(2);
    if (line[0] == '-') {
      if (!IsName(rest)) return false;
      s->removed.emplace(rest);
    } else if (line[0] == '+') {
      const size_t sp = rest.find(' ');
      if (sp == std::string_view::npos || !IsName(rest.substr(0, sp))) return false;
      const std::string tag(rest.substr(0, sp));
      const std::string_view element = rest.substr(sp + 1);
      auto [it, fresh] = s->adds.emplace(tag, element);
      // One tag, two elements: a writer reused a tag; keep the least, so
      // that every replica keeps the same.
      if (!fresh && element < it->second) it->second = std::string(element);
    } else {
      return false;
    }
  }
  return true;
}

std::string Format(const State& s) {
  std::set<std::string> lines;
  for (const auto& [tag, element] : s.adds) {
    if (s.removed.count(tag) == 0) lines.insert("+ " + tag + " " + element + "\n");
  }
  for (const std::string& tag : s.removed) lines.insert("- " + tag + "\n");
  std::string out;
  for (const std::string& l : lines) out += l;
  return out;
}

int Merge(const rkv_host_api* host, void* host_ctx, const rkv_sibling* siblings, size_t count,
          rkv_bytes* out) {
  return MergeParsed<State>(host, host_ctx, siblings, count, out, Parse, Format);
}

int Sample(const rkv_host_api* host, void* host_ctx, uint64_t seed, rkv_bytes* out) {
  return Guard([&] {
    uint64_t rng = seed;
    State s;
    const uint64_t n = SplitMix(&rng) % 4;
    for (uint64_t i = 0; i < n; ++i) {
      const std::string tag = "t" + std::to_string(SplitMix(&rng) % 6);
      if (SplitMix(&rng) % 3 == 0) {
        s.removed.insert(tag);
      } else {
        s.adds.emplace(tag, "e" + std::to_string(SplitMix(&rng) % 3));
      }
    }
    return Output(host, host_ctx, Format(s), out);
  });
}

const rkv_merge_plugin kPlugin = {sizeof(rkv_merge_plugin), RKV_MERGE_ABI_VERSION, "awset", 1,
                                  0, &Merge, &Sample};

}  // namespace
}  // namespace ringkv::builtin

extern "C" RKV_MERGE_EXPORT const rkv_merge_plugin* ringkv_merge_plugin_entry(
    uint32_t host_abi_version) {
  return host_abi_version >= 1 ? &ringkv::builtin::kPlugin : nullptr;
}
