/* Hostile and broken plugins, one per HOSTILE_KIND, each a join in name
 * only: crash (a null write in merge), loop (merge never returns), garbage
 * (a result in memory it was not lent), oversized (a result larger than a
 * value may be), decline (every merge declines), flaky (one merge in 100
 * declines, by the inputs' bytes, and counts it in flaky_failures). */
#include <stdlib.h>
#include <string.h>

#include "merge/ringkv_merge.h"

static int sample(const rkv_host_api *host, void *ctx, uint64_t seed, rkv_bytes *out) {
  uint8_t *p = (uint8_t *)host->alloc(ctx, 1);
  if (p == NULL) return RKV_ENOMEM;
  p[0] = (uint8_t)('a' + seed % 8);
  out->data = p;
  out->len = 1;
  return RKV_OK;
}

/* The greatest value, bytes compared shorter first: a lawful merge. */
static int lawful(const rkv_sibling *s, size_t n, rkv_bytes *out) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i) {
    const rkv_bytes a = s[i].value, b = s[best].value;
    if (a.len > b.len || (a.len == b.len && a.len > 0 && memcmp(a.data, b.data, a.len) > 0)) {
      best = i;
    }
  }
  *out = s[best].value;
  return RKV_OK;
}

static uint8_t kStatic[16];
static volatile int forever = 1;
static uint64_t failures;

RKV_MERGE_EXPORT uint64_t flaky_failures(void) { return failures; }

static int merge(const rkv_host_api *host, void *ctx, const rkv_sibling *s, size_t n,
                 rkv_bytes *out) {
  const char *kind = HOSTILE_KIND;
  if (strcmp(kind, "crash") == 0) {
    volatile int *null_pointer = NULL;
    *null_pointer = 1;
  } else if (strcmp(kind, "loop") == 0) {
    while (forever) {
    }
  } else if (strcmp(kind, "garbage") == 0) {
    out->data = kStatic;
    out->len = sizeof kStatic;
    return RKV_OK;
  } else if (strcmp(kind, "oversized") == 0) {
    const size_t len = (size_t)5 << 20;
    uint8_t *p = (uint8_t *)host->alloc(ctx, len);
    if (p == NULL) return RKV_ENOMEM;
    memset(p, 'x', len);
    out->data = p;
    out->len = len;
    return RKV_OK;
  } else if (strcmp(kind, "decline") == 0) {
    return RKV_EINVAL;
  } else if (strcmp(kind, "flaky") == 0) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < s[i].value.len; ++j) h = (h ^ s[i].value.data[j]) * 1099511628211ULL;
    }
    if (h % 100 == 0) {
      ++failures;
      return RKV_EINVAL;
    }
  }
  return lawful(s, n, out);
}

static const rkv_merge_plugin kPlugin = {
    sizeof(rkv_merge_plugin), RKV_MERGE_ABI_VERSION, HOSTILE_KIND, 1, 0, merge, sample};

RKV_MERGE_EXPORT const rkv_merge_plugin *ringkv_merge_plugin_entry(uint32_t v) {
  return v >= 1 ? &kPlugin : NULL;
}
