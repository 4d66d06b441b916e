#include "merge/plugin_catalog.h"

#include <algorithm>
#include <filesystem>

namespace ringkv {

bool PluginWorkers::Chosen(const std::string& path) const {
  const std::filesystem::path p(path);
  for (const std::string& f : files) {
    if (f == "*" || f == p.filename().string() || f == p.stem().string()) return true;
  }
  return false;
}

MergeGuardOptions WorkerGuardOptions(MergeGuardOptions guard, const MergeWorkerOptions& worker) {
  guard.slow_us = std::max(guard.slow_us, worker.call_deadline_us / 2);
  guard.slow_us_per_mib = std::max(guard.slow_us_per_mib, worker.deadline_us_per_mib / 2);
  return guard;
}

Status PluginCatalog::Add(Entry entry, MergeFunction* function) {
  const std::string key = "merge:" + entry.info.name;
  if (entries_.count(key) != 0) {
    const Status st = Status::InvalidArgument(
        "merge plugin " + entry.info.path + " refused: a plugin named " + entry.info.name +
        " is already loaded from " + entries_.at(key).info.path);
    refused_.push_back({entry.info.path, st.message()});
    return st;
  }
  entry.guard = std::make_unique<MergeGuard>(
      entry.info.name, function, clock_, metrics_,
      entry.worker != nullptr ? WorkerGuardOptions(guard_options_, entry.worker->options())
                              : guard_options_);
  entry.resolver = std::make_unique<MergeResolver>(key, entry.guard.get());
  entries_.emplace(key, std::move(entry));
  return Status::OK();
}

Status PluginCatalog::Load(const std::string& path, const LawCheckOptions& laws) {
  auto refuse = [&](const Status& st) {
    refused_.push_back({path, st.message()});
    return st;
  };
  Result<std::unique_ptr<LoadedPlugin>> plugin = LoadedPlugin::Open(path);
  if (!plugin.ok()) return refuse(plugin.status());
  if (entries_.count("merge:" + (*plugin)->info().name) == 0) {
    if (Status st = CheckLawsIsolated((*plugin)->api(), laws); !st.ok()) {
      return refuse(Status::InvalidArgument("merge plugin " + path + " refused: " + st.message()));
    }
  }
  Entry entry;
  static_cast<PluginInfo&>(entry.info) = (*plugin)->info();
  entry.in_process = std::make_unique<InProcessMerge>(&(*plugin)->api());
  entry.plugin = std::move(*plugin);
  MergeFunction* function = entry.in_process.get();
  return Add(std::move(entry), function);
}

Status PluginCatalog::LoadInWorker(const std::string& path, const LawCheckOptions& laws,
                                   const MergeWorkerOptions& options) {
  Result<std::unique_ptr<MergeWorker>> worker = MergeWorker::Start(path, options, laws);
  if (!worker.ok()) {
    refused_.push_back({path, worker.status().message()});
    return worker.status();
  }
  Entry entry;
  static_cast<PluginInfo&>(entry.info) = (*worker)->info();
  entry.info.in_worker = true;
  entry.worker = std::move(*worker);
  MergeFunction* function = entry.worker.get();
  return Add(std::move(entry), function);
}

Status PluginCatalog::LoadDir(const std::string& dir, const LawCheckOptions& laws,
                              const PluginWorkers& workers) {
  std::error_code ec;
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".so") paths.push_back(e.path().string());
  }
  if (ec) return Status::IOError("cannot read the plugin directory " + dir + ": " + ec.message());
  std::sort(paths.begin(), paths.end());
  for (const std::string& path : paths) {
    (void)(workers.Chosen(path) ? LoadInWorker(path, laws, workers.options) : Load(path, laws));
  }
  return Status::OK();
}

const Resolver* PluginCatalog::Find(std::string_view name, uint32_t version,
                                    std::string_view sha256_prefix) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return nullptr;
  const PluginInfo& info = it->second.info;
  if (version != 0 && info.version != version) return nullptr;
  if (!info.sha256.starts_with(sha256_prefix)) return nullptr;
  return it->second.resolver.get();
}

std::vector<LoadedPluginInfo> PluginCatalog::loaded() const {
  std::vector<LoadedPluginInfo> out;
  for (const auto& [key, entry] : entries_) out.push_back(entry.info);
  return out;
}

}  // namespace ringkv
