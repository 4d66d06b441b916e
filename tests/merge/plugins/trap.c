/* "trap": a lawful max register (bytes compared shorter first) that
 * misbehaves only when one of the values it merges names a trap, so that
 * it passes the law check (samples are "a".."h") and later merges work
 * again once the trap is gone: what a worker-mode plugin with a bug on
 * some inputs looks like (tests/merge/merge_worker_test.cc).
 *   "crash"     a null write
 *   "loop"      never returns
 *   "hog"       allocates without bound (up to 4 GiB in 8 MiB blocks,
 *               touching every page; an allocation that fails aborts, as an
 *               xmalloc would)
 *   "scribble"  writes a frame header announcing 2 GiB onto the worker's
 *               socket (descriptor 3), then merges */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "merge/ringkv_merge.h"

static int sample(const rkv_host_api *host, void *ctx, uint64_t seed, rkv_bytes *out) {
  uint8_t *p = (uint8_t *)host->alloc(ctx, 1);
  if (p == NULL) return RKV_ENOMEM;
  p[0] = (uint8_t)('a' + seed % 8);
  out->data = p;
  out->len = 1;
  return RKV_OK;
}

static int is(const rkv_bytes *v, const char *word) {
  const size_t n = strlen(word);
  return v->len == n && memcmp(v->data, word, n) == 0;
}

static volatile int forever = 1;

static void spring(const rkv_bytes *v) {
  if (is(v, "crash")) {
    volatile int *null_pointer = NULL;
    *null_pointer = 1;
  } else if (is(v, "loop")) {
    while (forever) {
    }
  } else if (is(v, "hog")) {
    const size_t chunk = (size_t)8 << 20;
    for (int i = 0; i < 512; ++i) {
      char *p = (char *)malloc(chunk);
      if (p == NULL) abort();
      memset(p, i + 1, chunk);
    }
  } else if (is(v, "scribble")) {
    const uint8_t header[4] = {0xf8, 0xff, 0xff, 0x7f};
    (void)!write(3, header, sizeof header);
  }
}

static int merge(const rkv_host_api *host, void *ctx, const rkv_sibling *s, size_t n,
                 rkv_bytes *out) {
  size_t best = 0;
  (void)host;
  (void)ctx;
  for (size_t i = 0; i < n; ++i) spring(&s[i].value);
  for (size_t i = 1; i < n; ++i) {
    const rkv_bytes a = s[i].value, b = s[best].value;
    if (a.len > b.len || (a.len == b.len && a.len > 0 && memcmp(a.data, b.data, a.len) > 0)) {
      best = i;
    }
  }
  *out = s[best].value;
  return RKV_OK;
}

static const rkv_merge_plugin kPlugin = {
    sizeof(rkv_merge_plugin), RKV_MERGE_ABI_VERSION, "trap", 1, 0, merge, sample};

RKV_MERGE_EXPORT const rkv_merge_plugin *ringkv_merge_plugin_entry(uint32_t v) {
  return v >= 1 ? &kPlugin : NULL;
}
