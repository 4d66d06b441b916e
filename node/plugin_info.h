// What `ringkv-admin plugins` lists: the ringkv_merge_plugin_info series
// (docs/metrics.md), one per merge plugin the node loaded. Its buckets label
// is computed from the bucket properties of the moment, so a bucket set to
// `resolver=merge:<name>` through the ring state (`ringkv-admin bucket`)
// shows under its plugin as soon as the node adopted the change.
#pragma once

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

}  // namespace ringkv
