/* Descriptions the loader must refuse, one per BAD_ABI_KIND: newer (built
 * for ABI 2), short (struct_size smaller than version 1's), badname (a name
 * outside [a-z0-9_]). Built without the entry symbol (noentry), too. */
#include "merge/ringkv_merge.h"

static int merge(const rkv_host_api *h, void *c, const rkv_sibling *s, size_t n, rkv_bytes *o) {
  (void)h;
  (void)c;
  (void)n;
  *o = s[0].value;
  return RKV_OK;
}

#define BAD(size, abi, name) {size, abi, name, 1, 0, merge, NULL}

#if defined(BAD_ABI_NEWER)
static const rkv_merge_plugin kPlugin = {sizeof(rkv_merge_plugin), 2, "newer", 1, 0, merge, NULL};
#elif defined(BAD_ABI_SHORT)
static const rkv_merge_plugin kPlugin = {8, RKV_MERGE_ABI_VERSION, "short", 1, 0, merge, NULL};
#else
static const rkv_merge_plugin kPlugin = {sizeof(rkv_merge_plugin), RKV_MERGE_ABI_VERSION,
                                         "Bad Name", 1, 0, merge, NULL};
#endif

#if !defined(BAD_ABI_NOENTRY)
RKV_MERGE_EXPORT const rkv_merge_plugin *ringkv_merge_plugin_entry(uint32_t v) {
  (void)v;
  return &kPlugin;
}
#else
RKV_MERGE_EXPORT const rkv_merge_plugin *some_other_symbol(void) { return &kPlugin; }
#endif
