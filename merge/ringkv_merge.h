/* ringkv_merge.h: the C ABI of ringkv's merge plugins, version 1.
 *
 * A merge plugin is a shared object that exports exactly one symbol,
 * ringkv_merge_plugin_entry, returning a description of the plugin: its name
 * (what a bucket names as `resolver = "merge:<name>"`), its version and two
 * functions. ringkv calls `merge` wherever concurrent siblings of a key in
 * such a bucket meet (a coordinator's write, a replica's merge, a read, read
 * repair, hinted handoff, anti-entropy) and keeps the one value it returns
 * instead of the siblings. docs/plugins.md is the contract in full.
 *
 * Rules of the ABI:
 * - Structs only grow at the end. Every struct that crosses the boundary
 *   starts with struct_size; a reader uses only the fields that fit in it.
 * - No memory crosses the boundary unowned. Inputs are read-only views,
 *   valid during the call. A result lives in memory the host lent for the
 *   call (host->alloc) or points into one of the inputs; the plugin never
 *   frees anything of the host's, nor the host anything of the plugin's.
 * - A merge that returns anything but RKV_OK declines: the host keeps the
 *   siblings as they were. No error ever drops a value.
 * - merge must be a join: commutative, associative, idempotent, the n-ary
 *   call equal to any fold of binary calls, and its output canonical bytes
 *   (equal states, equal bytes), because replicas compare bytes. The host
 *   checks these laws when it loads the plugin and refuses a plugin that
 *   breaks one.
 * - No exception or longjmp crosses the boundary; no global mutable state:
 *   the host may call merge from a forked checker and from its loop.
 *
 * Valid C99 and C++20.
 */
#ifndef RINGKV_MERGE_H
#define RINGKV_MERGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RKV_MERGE_ABI_VERSION 1u

/* The one exported symbol is marked with this; build plugins with
 * -fvisibility=hidden so that nothing else is exported. */
#if defined(__GNUC__)
#define RKV_MERGE_EXPORT __attribute__((visibility("default")))
#else
#define RKV_MERGE_EXPORT
#endif

/* Results of merge and sample. */
enum {
  RKV_OK = 0,
  /* Declined: the siblings stay as they are. */
  RKV_KEEP_SIBLINGS = 1,
  /* An input is not a value of this type. */
  RKV_EINVAL = -1,
  /* host->alloc refused: the call's byte budget is spent. */
  RKV_ENOMEM = -2,
  RKV_EINTERNAL = -3
};

typedef struct rkv_bytes {
  const uint8_t *data;
  size_t len;
} rkv_bytes;

/* One sibling, read-only. The stamp (timestamp_us, then the dot: node,
 * incarnation, counter) orders siblings totally; a merged value carries the
 * greatest stamp of its inputs. */
typedef struct rkv_sibling {
  uint32_t struct_size;
  uint32_t reserved0;
  rkv_bytes value;
  int64_t timestamp_us;
  rkv_bytes dot_node;
  uint64_t dot_incarnation;
  uint64_t dot_counter;
} rkv_sibling;

/* What the host lends a call. */
typedef struct rkv_host_api {
  uint32_t struct_size;
  uint32_t abi_version;
  /* `n` bytes that live until the host has copied the result, or NULL when
   * the call's byte budget (docs/plugins.md) would be passed. */
  void *(*alloc)(void *host_ctx, size_t n);
} rkv_host_api;

typedef struct rkv_merge_plugin {
  uint32_t struct_size;
  /* RKV_MERGE_ABI_VERSION the plugin was built against. */
  uint32_t abi_version;
  /* [a-z0-9_]{1,32}; a static string. */
  const char *name;
  /* Bumped whenever merge's output may change for some input. */
  uint32_t version;
  /* 0 in version 1. */
  uint32_t flags;
  /* Merges `count` (>= 2) siblings, in any order, into *out. */
  int (*merge)(const rkv_host_api *host, void *host_ctx, const rkv_sibling *siblings,
               size_t count, rkv_bytes *out);
  /* A value of this type drawn from `seed` (the same seed, the same value),
   * for the law check; small values are best, since collisions find bugs. */
  int (*sample)(const rkv_host_api *host, void *host_ctx, uint64_t seed, rkv_bytes *out);
} rkv_merge_plugin;

/* The sole export. `host_abi_version` is the newest ABI the host speaks; a
 * plugin that needs a newer one returns NULL. */
RKV_MERGE_EXPORT const rkv_merge_plugin *ringkv_merge_plugin_entry(uint32_t host_abi_version);

typedef const rkv_merge_plugin *(*rkv_merge_plugin_entry_fn)(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* RINGKV_MERGE_H */
