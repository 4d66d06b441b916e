// The ringkv_merge_plugin_info series (node/plugin_info.h) list, under each
// loaded plugin, the buckets that merge with it in the bucket table as it is
// now: a bucket the ring state moves to another plugin moves with it, and a
// bucket pinned to another build of the plugin is not listed.
#include "node/plugin_info.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "merge/law_check.h"
#include "tests/testing/fake_env.h"

namespace ringkv::testing {
namespace {

// Plugin name -> its labels.
std::map<std::string, std::map<std::string, std::string>> ByPlugin(
    const std::vector<LabeledValue>& series) {
  std::map<std::string, std::map<std::string, std::string>> out;
  for (const LabeledValue& s : series) {
    EXPECT_EQ(s.value, 1);
    std::map<std::string, std::string> labels(s.labels.begin(), s.labels.end());
    out[labels["plugin"]] = labels;
  }
  return out;
}

BucketProps Resolver(const std::string& resolver, const std::string& hash = "") {
  BucketProps props;
  props.resolver = resolver;
  props.plugin_hash = hash;
  return props;
}

TEST(PluginInfoTest, TheBucketsLabelFollowsTheBucketTableAsItChanges) {
  ManualClock clock;
  MetricsRegistry metrics;
  PluginCatalog catalog(&clock, &metrics);
  for (const char* name : {"max", "min"}) {
    ASSERT_TRUE(catalog.Load(std::string(RINGKV_BUILTIN_PLUGINS) + "/" + name + ".so",
                             LawCheckOptions{})
                    .ok())
        << name;
  }
  BucketTable buckets;
  buckets.Set("top", Resolver("merge:max"));
  buckets.Set("plain", Resolver("siblings"));
  // Pinned to a build of max that this node does not have.
  buckets.Set("pinned", Resolver("merge:max", "00000000"));
  auto plugins = ByPlugin(PluginInfoSeries(catalog, buckets));
  ASSERT_EQ(plugins.size(), 2u);
  EXPECT_EQ(plugins["max"]["buckets"], "top");
  EXPECT_EQ(plugins["min"]["buckets"], "");
  EXPECT_EQ(plugins["max"]["mode"], "in-process");
  EXPECT_EQ(plugins["max"]["version"], "1");
  EXPECT_EQ(plugins["max"]["sha256"].size(), 64u);

  // What the ring keeper does with a newer ring state: the defaults merge by
  // min, top moves to min, low is new, plain and pinned are gone.
  buckets.Assign({BucketInfoOf("", Resolver("merge:min")), BucketInfoOf("top", Resolver("merge:min")),
                  BucketInfoOf("low", Resolver("merge:min"))});
  plugins = ByPlugin(PluginInfoSeries(catalog, buckets));
  EXPECT_EQ(plugins["max"]["buckets"], "");
  EXPECT_EQ(plugins["min"]["buckets"], "(default),low,top");
}

TEST(PluginInfoTest, NoPluginsNoSeries) {
  ManualClock clock;
  MetricsRegistry metrics;
  PluginCatalog catalog(&clock, &metrics);
  BucketTable buckets;
  buckets.Set("top", Resolver("merge:max"));
  EXPECT_TRUE(PluginInfoSeries(catalog, buckets).empty());
}

}  // namespace
}  // namespace ringkv::testing
