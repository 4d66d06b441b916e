// What the built-in CRDT plugins written in C++ share: their values are
// lines of text, parsed into a state, merged as states, and written back in
// the one canonical form. Nothing here throws across the C ABI: every entry
// catches and answers RKV_EINTERNAL.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "merge/ringkv_merge.h"

namespace ringkv::builtin {

inline std::string_view View(const rkv_bytes& b) {
  return std::string_view(reinterpret_cast<const char*>(b.data), b.len);
}

// Copies `text` into memory the host lends the call.
inline int Output(const rkv_host_api* host, void* host_ctx, const std::string& text,
                  rkv_bytes* out) {
  void* p = host->alloc(host_ctx, text.size());
  if (p == nullptr) return RKV_ENOMEM;
  if (!text.empty()) std::memcpy(p, text.data(), text.size());
  out->data = static_cast<const uint8_t*>(p);
  out->len = text.size();
  return RKV_OK;
}

// The lines of `text`, each ended by '\n'; false when the last is not.
inline bool Lines(std::string_view text, std::vector<std::string_view>* lines) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return false;
    lines->push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  return true;
}

// A name (a counter's actor, an add's tag): 1..64 of [A-Za-z0-9_.:-].
inline bool IsName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// A decimal uint64 without leading zeros.
inline bool ParseU64(std::string_view s, uint64_t* v) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  uint64_t x = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (x > (UINT64_MAX - d) / 10) return false;
    x = x * 10 + d;
  }
  *v = x;
  return true;
}

inline uint64_t SplitMix(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Runs `f` (returning an RKV_ code), turning any exception into
// RKV_EINTERNAL (bad_alloc: RKV_ENOMEM).
template <typename F>
int Guard(F f) noexcept {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return RKV_ENOMEM;
  } catch (...) {
    return RKV_EINTERNAL;
  }
}

// The merge of a state-based text CRDT: every sibling's value parsed into
// one State (Parse joins into it), then formatted canonically. A value that
// does not parse declines the merge (RKV_EINVAL), so the siblings stay.
template <typename State, typename ParseFn, typename FormatFn>
int MergeParsed(const rkv_host_api* host, void* host_ctx, const rkv_sibling* siblings,
                size_t count, rkv_bytes* out, ParseFn parse, FormatFn format) {
  return Guard([&] {
    State state;
    for (size_t i = 0; i < count; ++i) {
      if (!parse(View(siblings[i].value), &state)) return static_cast<int>(RKV_EINVAL);
    }
    return Output(host, host_ctx, format(state), out);
  });
}

}  // namespace ringkv::builtin
