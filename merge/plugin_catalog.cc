#include "merge/plugin_catalog.h"

#include <algorithm>
#include <filesystem>

namespace ringkv {

Status PluginCatalog::Load(const std::string& path, const LawCheckOptions& laws) {
  auto refuse = [&](const Status& st) {
    refused_.push_back({path, st.message()});
    return st;
  };
  Result<std::unique_ptr<LoadedPlugin>> plugin = LoadedPlugin::Open(path);
  if (!plugin.ok()) return refuse(plugin.status());
  const PluginInfo& info = (*plugin)->info();
  const std::string key = "merge:" + info.name;
  if (entries_.count(key) != 0) {
    return refuse(Status::InvalidArgument("merge plugin " + path + " refused: a plugin named " +
                                          info.name + " is already loaded from " +
                                          entries_.at(key).plugin->info().path));
  }
  if (Status st = CheckLawsIsolated((*plugin)->api(), laws); !st.ok()) {
    return refuse(Status::InvalidArgument("merge plugin " + path + " refused: " + st.message()));
  }
  Entry entry;
  entry.guard = std::make_unique<MergeGuard>(&(*plugin)->api(), clock_, metrics_, guard_options_);
  entry.resolver = std::make_unique<MergeResolver>(key, entry.guard.get());
  entry.plugin = std::move(*plugin);
  entries_.emplace(key, std::move(entry));
  return Status::OK();
}

Status PluginCatalog::LoadDir(const std::string& dir, const LawCheckOptions& laws) {
  std::error_code ec;
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".so") paths.push_back(e.path().string());
  }
  if (ec) return Status::IOError("cannot read the plugin directory " + dir + ": " + ec.message());
  std::sort(paths.begin(), paths.end());
  for (const std::string& path : paths) (void)Load(path, laws);
  return Status::OK();
}

const Resolver* PluginCatalog::Find(std::string_view name, uint32_t version,
                                    std::string_view sha256_prefix) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return nullptr;
  const PluginInfo& info = it->second.plugin->info();
  if (version != 0 && info.version != version) return nullptr;
  if (!info.sha256.starts_with(sha256_prefix)) return nullptr;
  return it->second.resolver.get();
}

std::vector<PluginInfo> PluginCatalog::loaded() const {
  std::vector<PluginInfo> out;
  for (const auto& [key, entry] : entries_) out.push_back(entry.plugin->info());
  return out;
}

}  // namespace ringkv
