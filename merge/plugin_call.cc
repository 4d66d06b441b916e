#include "merge/plugin_call.h"

#include <memory>

#include "causality/object_limits.h"

namespace ringkv {
namespace {

// The arena of one call: blocks the plugin asked for, freed with the call.
struct Arena {
  std::vector<std::unique_ptr<uint8_t[]>> blocks;
  std::vector<std::pair<const uint8_t*, size_t>> ranges;
  size_t used = 0;
};

void* ArenaAlloc(void* ctx, size_t n) {
  auto* arena = static_cast<Arena*>(ctx);
  if (n > kMergeArenaBytes - arena->used) return nullptr;
  arena->used += n;
  // One byte at least, so that a zero-byte request still has an address.
  arena->blocks.push_back(std::make_unique<uint8_t[]>(n == 0 ? 1 : n));
  arena->ranges.emplace_back(arena->blocks.back().get(), n);
  return arena->blocks.back().get();
}

const rkv_host_api kHost = {sizeof(rkv_host_api), RKV_MERGE_ABI_VERSION, &ArenaAlloc};

bool Within(const rkv_bytes& out, const uint8_t* base, size_t len) {
  if (out.len == 0) return true;
  const auto begin = reinterpret_cast<uintptr_t>(base);
  const auto p = reinterpret_cast<uintptr_t>(out.data);
  return p >= begin && p - begin <= len && out.len <= len - (p - begin);
}

// The result copied out, if it lies in memory the plugin was lent.
Result<std::string> TakeResult(const rkv_bytes& out, const Arena& arena,
                               const std::vector<rkv_sibling>& inputs) {
  if (out.len > kMaxValueBytes) {
    return Status::Corruption("merge plugin returned " + std::to_string(out.len) +
                                   " bytes, more than a value may hold (" +
                                   std::to_string(kMaxValueBytes) + ")");
  }
  if (out.len > 0 && out.data == nullptr) {
    return Status::Corruption("merge plugin returned a null result");
  }
  bool lent = out.len == 0;
  for (const auto& [base, len] : arena.ranges) lent = lent || Within(out, base, len);
  for (const rkv_sibling& s : inputs) lent = lent || Within(out, s.value.data, s.value.len);
  if (!lent) {
    return Status::Corruption("merge plugin returned memory it was not lent");
  }
  return std::string(reinterpret_cast<const char*>(out.data), out.len);
}

rkv_bytes View(const std::string& s) {
  return rkv_bytes{reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::string PluginCodeName(int code) {
  switch (code) {
    case RKV_OK: return "ok";
    case RKV_KEEP_SIBLINGS: return "keep_siblings";
    case RKV_EINVAL: return "einval";
    case RKV_ENOMEM: return "enomem";
    case RKV_EINTERNAL: return "einternal";
  }
  return "code " + std::to_string(code);
}

Result<std::string> CallMerge(const rkv_merge_plugin& plugin,
                              const std::vector<const Sibling*>& siblings, int* code_out) {
  std::vector<rkv_sibling> inputs;
  inputs.reserve(siblings.size());
  for (const Sibling* s : siblings) {
    rkv_sibling in{};
    in.struct_size = sizeof(rkv_sibling);
    in.value = View(s->value);
    in.timestamp_us = s->timestamp_us;
    in.dot_node = View(s->dot.actor.node);
    in.dot_incarnation = s->dot.actor.incarnation;
    in.dot_counter = s->dot.counter;
    inputs.push_back(in);
  }
  Arena arena;
  rkv_bytes out{nullptr, 0};
  const int code = plugin.merge(&kHost, &arena, inputs.data(), inputs.size(), &out);
  if (code_out != nullptr) *code_out = code;
  if (code != RKV_OK) {
    return Status::InvalidArgument("merge plugin declined: " + PluginCodeName(code));
  }
  return TakeResult(out, arena, inputs);
}

Result<std::string> CallSample(const rkv_merge_plugin& plugin, uint64_t seed) {
  Arena arena;
  rkv_bytes out{nullptr, 0};
  const int code = plugin.sample(&kHost, &arena, seed, &out);
  if (code != RKV_OK) {
    return Status::InvalidArgument("sample failed: " + PluginCodeName(code));
  }
  return TakeResult(out, arena, {});
}

}  // namespace ringkv
