// The ringkv_merge_plugin_info series (node/plugin_info.h) list, under each
// loaded plugin, the buckets that merge with it in the bucket table as it is
// now: a bucket the ring state moves to another plugin moves with it, and a
// bucket pinned to another build of the plugin is not listed; a bucket
// naming a plugin the node lacks, or a build it does not have, is missing.
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

TEST(PluginInfoTest, BucketsNamingAPluginTheNodeLacksAreMissingAsTheTableChanges) {
  ManualClock clock;
  MetricsRegistry metrics;
  PluginCatalog catalog(&clock, &metrics);
  ASSERT_TRUE(
      catalog.Load(std::string(RINGKV_BUILTIN_PLUGINS) + "/max.so", LawCheckOptions{}).ok());
  BucketTable buckets;
  buckets.Set("top", Resolver("merge:max"));
  buckets.Set("plain", Resolver("siblings"));
  EXPECT_TRUE(MissingPlugins(catalog, buckets).empty());
  EXPECT_TRUE(MissingPluginSeries(catalog, buckets).empty());

  // The ring state moves the defaults to a plugin this node lacks, and pins
  // top to a build of max it does not have.
  buckets.Assign({BucketInfoOf("", Resolver("merge:nosuch")),
                  BucketInfoOf("top", Resolver("merge:max", "00000000"))});
  const std::vector<MissingPlugin> missing = MissingPlugins(catalog, buckets);
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_EQ(missing[0].bucket, "(default)");
  EXPECT_EQ(missing[0].resolver, "merge:nosuch");
  EXPECT_FALSE(missing[0].pinned());
  EXPECT_EQ(missing[1].bucket, "top");
  EXPECT_TRUE(missing[1].pinned());
  EXPECT_NE(missing[1].Describe().find("bucket top resolves by merge:max, which this node has "
                                       "not loaded in the pinned version and hash"),
            std::string::npos)
      << missing[1].Describe();
  const std::vector<LabeledValue> series = MissingPluginSeries(catalog, buckets);
  ASSERT_EQ(series.size(), 2u);
  std::map<std::string, std::string> labels(series[1].labels.begin(), series[1].labels.end());
  EXPECT_EQ(labels["bucket"], "top");
  EXPECT_EQ(labels["resolver"], "merge:max");
  EXPECT_EQ(labels["plugin_hash"], "00000000");
  EXPECT_EQ(series[1].value, 1);
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
