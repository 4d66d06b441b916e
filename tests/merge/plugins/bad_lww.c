/* A broken last-write-wins: on equal timestamps the first argument wins
 * (Anna's `>=`), so the result depends on the order of the arguments. The
 * law check must refuse it (commutativity). */
#include "merge/ringkv_merge.h"

static int bad_merge(const rkv_host_api *host, void *ctx, const rkv_sibling *s, size_t n,
                     rkv_bytes *out) {
  size_t best = 0;
  (void)host;
  (void)ctx;
  for (size_t i = 1; i < n; ++i) {
    if (s[i].timestamp_us > s[best].timestamp_us) best = i;
  }
  *out = s[best].value;
  return RKV_OK;
}

static int sample(const rkv_host_api *host, void *ctx, uint64_t seed, rkv_bytes *out) {
  uint8_t *p = (uint8_t *)host->alloc(ctx, 1);
  if (p == NULL) return RKV_ENOMEM;
  p[0] = (uint8_t)('a' + seed % 8);
  out->data = p;
  out->len = 1;
  return RKV_OK;
}

static const rkv_merge_plugin kPlugin = {
    sizeof(rkv_merge_plugin), RKV_MERGE_ABI_VERSION, "bad_lww", 1, 0, bad_merge, sample};

RKV_MERGE_EXPORT const rkv_merge_plugin *ringkv_merge_plugin_entry(uint32_t v) {
  return v >= 1 ? &kPlugin : NULL;
}
