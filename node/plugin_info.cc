#include "node/plugin_info.h"

#include <string>

namespace ringkv {

std::vector<LabeledValue> PluginInfoSeries(const PluginCatalog& catalog,
                                           const BucketTable& buckets) {
  std::vector<LabeledValue> series;
  for (const LoadedPluginInfo& p : catalog.loaded()) {
    std::string users;
    auto use = [&](const std::string& bucket, const BucketProps& props) {
      if (props.resolver != "merge:" + p.name ||
          catalog.Find(props.resolver, props.plugin_version, props.plugin_hash) == nullptr) {
        return;
      }
      users += (users.empty() ? "" : ",") + bucket;
    };
    use("(default)", buckets.defaults());
    for (const auto& [name, props] : buckets.named()) use(name, props);
    series.push_back({{{"plugin", p.name},
                       {"version", std::to_string(p.version)},
                       {"sha256", p.sha256},
                       {"path", p.path},
                       {"buckets", users},
                       {"mode", p.in_worker ? "worker" : "in-process"}},
                      1});
  }
  return series;
}

std::string MissingPlugin::Describe() const {
  return "bucket " + bucket + " resolves by " + resolver + ", which this node has not loaded" +
         (pinned() ? " in the pinned version and hash" : "") + ": its siblings are kept unmerged";
}

std::vector<MissingPlugin> MissingPlugins(const PluginCatalog& catalog, const BucketTable& buckets) {
  std::vector<MissingPlugin> missing;
  auto check = [&](const std::string& bucket, const BucketProps& props) {
    if (!IsMergeResolverName(props.resolver) ||
        catalog.Find(props.resolver, props.plugin_version, props.plugin_hash) != nullptr) {
      return;
    }
    missing.push_back({bucket, props.resolver, props.plugin_version, props.plugin_hash});
  };
  check("(default)", buckets.defaults());
  for (const auto& [name, props] : buckets.named()) check(name, props);
  return missing;
}

std::vector<LabeledValue> MissingPluginSeries(const PluginCatalog& catalog,
                                              const BucketTable& buckets) {
  std::vector<LabeledValue> series;
  for (const MissingPlugin& m : MissingPlugins(catalog, buckets)) {
    series.push_back({{{"bucket", m.bucket},
                       {"resolver", m.resolver},
                       {"plugin_version", std::to_string(m.plugin_version)},
                       {"plugin_hash", m.plugin_hash}},
                      1});
  }
  return series;
}

}  // namespace ringkv
