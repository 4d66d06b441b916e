// Paths of the built-in and test plugins the build made, for the merge
// tests.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "merge/plugin_loader.h"

namespace ringkv::testing {

inline std::string BuiltinPlugin(const std::string& name) {
  return std::string(RINGKV_BUILTIN_PLUGINS) + "/" + name + ".so";
}
inline std::string TestPlugin(const std::string& name) {
  return std::string(RINGKV_TEST_PLUGINS) + "/" + name + ".so";
}

inline std::unique_ptr<LoadedPlugin> MustOpen(const std::string& path) {
  Result<std::unique_ptr<LoadedPlugin>> p = LoadedPlugin::Open(path);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(*p) : nullptr;
}

}  // namespace ringkv::testing
