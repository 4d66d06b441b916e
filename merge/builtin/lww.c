/* lww: last write wins, as a merge plugin. The greatest stamp wins:
 * timestamp, then the dot (node bytes, incarnation, counter); two siblings
 * with one stamp (a dot collision) are told apart by their bytes, shorter
 * first, so that no tie is ever broken by the order of the arguments. */
#include <string.h>

#include "merge/builtin/register.h"

static int bytes_compare(rkv_bytes a, rkv_bytes b) {
  size_t n = a.len < b.len ? a.len : b.len;
  int c = n == 0 ? 0 : memcmp(a.data, b.data, n);
  if (c != 0) return c;
  return a.len == b.len ? 0 : (a.len < b.len ? -1 : 1);
}

static int stamp_compare(const rkv_sibling *a, const rkv_sibling *b) {
  if (a->timestamp_us != b->timestamp_us) return a->timestamp_us < b->timestamp_us ? -1 : 1;
  int c = bytes_compare(a->dot_node, b->dot_node);
  if (c != 0) return c;
  if (a->dot_incarnation != b->dot_incarnation) {
    return a->dot_incarnation < b->dot_incarnation ? -1 : 1;
  }
  if (a->dot_counter != b->dot_counter) return a->dot_counter < b->dot_counter ? -1 : 1;
  return register_compare(a->value, b->value);
}

static int lww_merge(const rkv_host_api *host, void *host_ctx, const rkv_sibling *siblings,
                     size_t count, rkv_bytes *out) {
  size_t best = 0;
  (void)host;
  (void)host_ctx;
  for (size_t i = 1; i < count; ++i) {
    if (stamp_compare(&siblings[i], &siblings[best]) > 0) best = i;
  }
  *out = siblings[best].value;
  return RKV_OK;
}

static const rkv_merge_plugin kLww = {
    sizeof(rkv_merge_plugin), RKV_MERGE_ABI_VERSION, "lww", 1, 0, lww_merge, register_sample};

RKV_MERGE_EXPORT const rkv_merge_plugin *ringkv_merge_plugin_entry(uint32_t host_abi_version) {
  return host_abi_version >= 1 ? &kLww : NULL;
}
