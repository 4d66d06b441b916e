/* The max and min registers' shared code (C99): values compared as bytes,
 * shorter first, so "9" < "10" < "aa" and every byte string has one place.
 * The result points into the winning input: nothing is allocated. */
#ifndef RINGKV_MERGE_BUILTIN_REGISTER_H
#define RINGKV_MERGE_BUILTIN_REGISTER_H

#include <string.h>

#include "merge/ringkv_merge.h"

/* <0, 0, >0 as a is below, equal to or above b. */
static inline int register_compare(rkv_bytes a, rkv_bytes b) {
  if (a.len != b.len) return a.len < b.len ? -1 : 1;
  return a.len == 0 ? 0 : memcmp(a.data, b.data, a.len);
}

/* The greatest (sign 1) or least (sign -1) value of the siblings. */
static inline int register_pick(const rkv_sibling *siblings, size_t count, int sign, rkv_bytes *out) {
  size_t best = 0;
  for (size_t i = 1; i < count; ++i) {
    if (sign * register_compare(siblings[i].value, siblings[best].value) > 0) best = i;
  }
  *out = siblings[best].value;
  return RKV_OK;
}

/* Decimal numbers 0..63 as samples: short, and colliding often. */
static inline int register_sample(const rkv_host_api *host, void *host_ctx, uint64_t seed,
                           rkv_bytes *out) {
  uint8_t *p = (uint8_t *)host->alloc(host_ctx, 2);
  if (p == NULL) return RKV_ENOMEM;
  seed %= 64;
  if (seed < 10) {
    p[0] = (uint8_t)('0' + seed);
    out->len = 1;
  } else {
    p[0] = (uint8_t)('0' + seed / 10);
    p[1] = (uint8_t)('0' + seed % 10);
    out->len = 2;
  }
  out->data = p;
  return RKV_OK;
}

#endif
