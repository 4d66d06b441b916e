/* flaky_set: a grow-only set (elements one per line, each ended by '\n',
 * sorted as bytes, no duplicates; the merge is the union) that declines a
 * deterministic 1% of its calls: those whose inputs' bytes, in the order
 * given, hash (FNV-1a) to 0 mod 100. A decline keeps every value as a
 * sibling, so a test on real nodes can show that nothing written is lost.
 *
 * Law-check samples (sets of elements starting with '~') are never
 * declined, or the check at load would refuse the plugin. Every decline
 * appends one line to the file $RINGKV_FLAKY_LOG names, if set, so that the
 * test can count the declines of every node process against the node's
 * failure counter: I/O that a real plugin must not do (docs/plugins.md,
 * "Purity"); the count does not change any result. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "merge/ringkv_merge.h"

typedef struct {
  const uint8_t *data;
  size_t len;
} element;

static int compare(const void *x, const void *y) {
  const element *a = (const element *)x, *b = (const element *)y;
  const size_t n = a->len < b->len ? a->len : b->len;
  const int c = n > 0 ? memcmp(a->data, b->data, n) : 0;
  if (c != 0) return c;
  return a->len < b->len ? -1 : (a->len > b->len ? 1 : 0);
}

static void log_decline(void) {
  const char *path = getenv("RINGKV_FLAKY_LOG");
  if (path == NULL) return;
  const int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  /* One short write with O_APPEND: lines of concurrent nodes never mix. */
  ssize_t ignored = write(fd, "declined\n", 9);
  (void)ignored;
  close(fd);
}

static int decline(int code) {
  log_decline();
  return code;
}

static int sample(const rkv_host_api *host, void *ctx, uint64_t seed, rkv_bytes *out) {
  uint8_t *p = (uint8_t *)host->alloc(ctx, 4);
  if (p == NULL) return RKV_ENOMEM;
  p[0] = '~';
  p[1] = (uint8_t)('a' + seed % 16);
  p[2] = (uint8_t)('a' + seed / 16 % 4);
  p[3] = '\n';
  out->data = p;
  out->len = 4;
  return RKV_OK;
}

static int merge(const rkv_host_api *host, void *ctx, const rkv_sibling *s, size_t n,
                 rkv_bytes *out) {
  uint64_t h = 1469598103934665603ULL;
  int samples_only = 1;
  for (size_t i = 0; i < n; ++i) {
    const rkv_bytes v = s[i].value;
    if (v.len == 0 || v.data[0] != '~') samples_only = 0;
    for (size_t j = 0; j < v.len; ++j) h = (h ^ v.data[j]) * 1099511628211ULL;
  }
  if (!samples_only && h % 100 == 0) return decline(RKV_KEEP_SIBLINGS);

  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    const rkv_bytes v = s[i].value;
    if (v.len > 0 && v.data[v.len - 1] != '\n') return decline(RKV_EINVAL);
    for (size_t j = 0; j < v.len; ++j) count += v.data[j] == '\n';
  }
  element *elements = (element *)host->alloc(ctx, (count > 0 ? count : 1) * sizeof(element));
  if (elements == NULL) return decline(RKV_ENOMEM);
  count = 0;
  for (size_t i = 0; i < n; ++i) {
    const rkv_bytes v = s[i].value;
    size_t start = 0;
    for (size_t j = 0; j < v.len; ++j) {
      if (v.data[j] != '\n') continue;
      elements[count].data = v.data + start;
      elements[count].len = j + 1 - start;
      ++count;
      start = j + 1;
    }
  }
  qsort(elements, count, sizeof(element), compare);
  size_t total = 0, kept = 0;
  for (size_t i = 0; i < count; ++i) {
    if (kept > 0 && compare(&elements[kept - 1], &elements[i]) == 0) continue;
    elements[kept++] = elements[i];
    total += elements[i].len;
  }
  uint8_t *p = (uint8_t *)host->alloc(ctx, total > 0 ? total : 1);
  if (p == NULL) return decline(RKV_ENOMEM);
  size_t at = 0;
  for (size_t i = 0; i < kept; ++i) {
    memcpy(p + at, elements[i].data, elements[i].len);
    at += elements[i].len;
  }
  out->data = p;
  out->len = total;
  return RKV_OK;
}

static const rkv_merge_plugin kPlugin = {
    sizeof(rkv_merge_plugin), RKV_MERGE_ABI_VERSION, "flaky_set", 1, 0, merge, sample};

RKV_MERGE_EXPORT const rkv_merge_plugin *ringkv_merge_plugin_entry(uint32_t v) {
  return v >= 1 ? &kPlugin : NULL;
}
