/* min: a register that keeps the least value ever written, values compared
 * as bytes, shorter first. */
#include "merge/builtin/register.h"

static int min_merge(const rkv_host_api *host, void *host_ctx, const rkv_sibling *siblings,
                     size_t count, rkv_bytes *out) {
  (void)host;
  (void)host_ctx;
  return register_pick(siblings, count, -1, out);
}

static const rkv_merge_plugin kMin = {
    sizeof(rkv_merge_plugin), RKV_MERGE_ABI_VERSION, "min", 1, 0, min_merge, register_sample};

RKV_MERGE_EXPORT const rkv_merge_plugin *ringkv_merge_plugin_entry(uint32_t host_abi_version) {
  return host_abi_version >= 1 ? &kMin : NULL;
}
