// LoadedPlugin: one merge plugin's shared object, opened with dlopen and
// checked against the ABI (merge/ringkv_merge.h) before anything of it is
// used: the entry symbol exists, the ABI version is one this host speaks,
// the description is at least version 1's size, the name is valid and both
// functions are there. Its SHA-256 is what bucket properties pin and what
// `ringkv-admin plugins` shows.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "merge/ringkv_merge.h"

namespace ringkv {

struct PluginInfo {
  std::string name;
  uint32_t version = 0;
  // Hex SHA-256 of the shared object's bytes.
  std::string sha256;
  std::string path;
};

class LoadedPlugin {
 public:
  // InvalidArgument naming `path` and what is wrong; the object is closed
  // again when it is refused.
  static Result<std::unique_ptr<LoadedPlugin>> Open(const std::string& path);
  ~LoadedPlugin();
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  const PluginInfo& info() const { return info_; }
  const rkv_merge_plugin& api() const { return *api_; }

 private:
  LoadedPlugin(void* handle, const rkv_merge_plugin* api, PluginInfo info)
      : handle_(handle), api_(api), info_(std::move(info)) {}

  void* handle_;
  const rkv_merge_plugin* api_;
  PluginInfo info_;
};

// [a-z0-9_]{1,32}: what a plugin may call itself.
bool ValidPluginName(std::string_view name);

// Hex SHA-256 of the file at `path`.
Result<std::string> FileSha256(const std::string& path);

}  // namespace ringkv
