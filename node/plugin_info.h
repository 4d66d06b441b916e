// What `ringkv-admin plugins` lists: the ringkv_merge_plugin_info series
// (docs/metrics.md), one per merge plugin the node loaded, and the
// ringkv_merge_plugin_missing series, one per bucket that names a plugin the
// node lacks. Both are computed from the bucket properties of the moment, so
// a bucket set to `resolver=merge:<name>` through the ring state
// (`ringkv-admin bucket`) shows under its plugin, or as missing, as soon as
// the node adopted the change.
#pragma once

#include <string>
#include <vector>

#include "common/metrics.h"
#include "merge/plugin_catalog.h"
#include "replication/bucket.h"

namespace ringkv {

// One series of value 1 per plugin in `catalog`, labelled plugin, version,
// sha256, path, mode (in-process or worker) and buckets: the buckets of
// `buckets` that this plugin merges for, comma-separated, "(default)" for the
// defaults; a bucket whose pinned version or hash the plugin does not match
// is not among them.
std::vector<LabeledValue> PluginInfoSeries(const PluginCatalog& catalog,
                                           const BucketTable& buckets);

// A bucket whose resolver is a merge plugin this node has not loaded, or not
// in the version and hash the bucket pins: its siblings are kept unmerged
// here.
struct MissingPlugin {
  std::string bucket;  // "(default)" for the defaults
  std::string resolver;
  uint32_t plugin_version = 0;
  std::string plugin_hash;

  bool pinned() const { return plugin_version != 0 || !plugin_hash.empty(); }
  bool operator==(const MissingPlugin&) const = default;
  // "bucket tags resolves by merge:nosuch, which this node has not loaded"
  std::string Describe() const;
};

std::vector<MissingPlugin> MissingPlugins(const PluginCatalog& catalog, const BucketTable& buckets);

// One series of value 1 per missing plugin, labelled bucket, resolver,
// plugin_version and plugin_hash.
std::vector<LabeledValue> MissingPluginSeries(const PluginCatalog& catalog,
                                              const BucketTable& buckets);

}  // namespace ringkv
