// Issue 13: the loader checks a plugin against the ABI before using any of
// it, and the catalog keeps what it refused and why.
#include "merge/plugin_loader.h"

#include <gtest/gtest.h>

#include "merge/plugin_catalog.h"
#include "tests/merge/plugin_test_util.h"
#include "tests/testing/fake_env.h"

namespace ringkv::testing {
namespace {

std::string Refusal(const std::string& path) {
  Result<std::unique_ptr<LoadedPlugin>> p = LoadedPlugin::Open(path);
  EXPECT_FALSE(p.ok());
  return p.ok() ? "" : p.status().message();
}

TEST(PluginLoaderTest, ABuiltinLoadsWithItsNameVersionAndHash) {
  auto plugin = MustOpen(BuiltinPlugin("pncounter"));
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(plugin->info().name, "pncounter");
  EXPECT_EQ(plugin->info().version, 1u);
  EXPECT_EQ(plugin->info().sha256.size(), 64u);
  EXPECT_EQ(plugin->info().sha256, FileSha256(BuiltinPlugin("pncounter")).value());
}

TEST(PluginLoaderTest, DescriptionsOutsideTheAbiAreRefusedSayingWhy) {
  EXPECT_NE(Refusal(TestPlugin("abi_newer")).find("built for ABI version 2"), std::string::npos);
  EXPECT_NE(Refusal(TestPlugin("abi_short")).find("shorter than ABI version 1"),
            std::string::npos);
  EXPECT_NE(Refusal(TestPlugin("abi_badname")).find("its name is not"), std::string::npos);
  EXPECT_NE(Refusal(TestPlugin("abi_noentry")).find("exports no ringkv_merge_plugin_entry"),
            std::string::npos);
  EXPECT_NE(Refusal(TestPlugin("no_such_plugin")).find("cannot read"), std::string::npos);
}

TEST(PluginCatalogTest, LoadsTheBuiltinsAndRefusesTheBrokenOnesWhileThisProcessGoesOn) {
  ManualClock clock;
  MetricsRegistry metrics;
  PluginCatalog catalog(&clock, &metrics);
  ASSERT_TRUE(catalog.LoadDir(RINGKV_BUILTIN_PLUGINS, LawCheckOptions{}).ok());
  EXPECT_EQ(catalog.loaded().size(), 6u);
  EXPECT_TRUE(catalog.refused().empty());
  LawCheckOptions quick;
  quick.deadline_ms = 500;
  for (const char* bad : {"bad_lww", "crash", "loop"}) {
    EXPECT_FALSE(catalog.Load(TestPlugin(bad), quick).ok()) << bad;
  }
  ASSERT_EQ(catalog.refused().size(), 3u);
  EXPECT_NE(catalog.refused()[0].reason.find("commutative"), std::string::npos);
  EXPECT_EQ(catalog.Find("merge:bad_lww", 0, ""), nullptr);
  // A second plugin of a name already loaded is refused.
  EXPECT_FALSE(catalog.Load(BuiltinPlugin("max"), quick).ok());

  // Found by name, and only in the pinned version and hash.
  const std::string sha = FileSha256(BuiltinPlugin("max")).value();
  EXPECT_NE(catalog.Find("merge:max", 0, ""), nullptr);
  EXPECT_NE(catalog.Find("merge:max", 1, sha.substr(0, 12)), nullptr);
  EXPECT_EQ(catalog.Find("merge:max", 2, ""), nullptr);
  EXPECT_EQ(catalog.Find("merge:max", 0, "00000000"), nullptr);
  EXPECT_EQ(catalog.Find("merge:nosuch", 0, ""), nullptr);
}

}  // namespace
}  // namespace ringkv::testing
