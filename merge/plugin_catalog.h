// PluginCatalog: the merge plugins of one node, loaded from its --plugins
// directory at start. Each shared object there is opened and checked
// against the ABI (plugin_loader.h), then law-checked in a forked child
// (law_check.h); one that fails either is refused, with the reason kept for
// the log and `ringkv-admin plugins`, and the node goes on. A plugin the
// operator does not trust runs in a worker process instead
// (merge/merge_worker.h): the node never loads its code, and the worker
// runs the law check. A bucket finds its plugin's resolver here by
// "merge:<name>", pinned by version and hash.
//
// Built before the node's loop starts (the law check forks); then used on
// the loop only.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "causality/resolver.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "merge/law_check.h"
#include "merge/merge_guard.h"
#include "merge/merge_resolver.h"
#include "merge/merge_worker.h"
#include "merge/plugin_loader.h"

namespace ringkv {

// Which plugins of a directory run in a worker, and how.
struct PluginWorkers {
  // File names ("max.so") or their stems ("max"); "*" is every plugin.
  std::vector<std::string> files;
  MergeWorkerOptions options;

  bool Chosen(const std::string& path) const;
};

// The breaker of a plugin in a worker: its calls cross a socket and are
// bounded by their own deadline (merge/merge_worker.h), so a call is slow
// only when it used half of that deadline, never less than `guard` allows.
MergeGuardOptions WorkerGuardOptions(MergeGuardOptions guard, const MergeWorkerOptions& worker);

struct LoadedPluginInfo : PluginInfo {
  bool in_worker = false;
};

struct RefusedPlugin {
  std::string path;
  std::string reason;
};

class PluginCatalog final : public ResolverCatalog {
 public:
  // Both must outlive the catalog.
  PluginCatalog(Clock* clock, MetricsRegistry* metrics, MergeGuardOptions guard = {})
      : clock_(clock), metrics_(metrics), guard_options_(guard) {}

  // Loads every regular file ending in ".so" in `dir`, in name order, each
  // in this process or in a worker as `workers` chooses. Only an
  // unreadable directory is an error; refused plugins are in refused().
  Status LoadDir(const std::string& dir, const LawCheckOptions& laws,
                 const PluginWorkers& workers = {});
  // Opens, checks and adds one plugin; InvalidArgument saying why it was
  // refused (also kept in refused()).
  Status Load(const std::string& path, const LawCheckOptions& laws);
  // The same, the plugin running in a worker process.
  Status LoadInWorker(const std::string& path, const LawCheckOptions& laws,
                      const MergeWorkerOptions& options);

  const Resolver* Find(std::string_view name, uint32_t version,
                       std::string_view sha256_prefix) const override;

  std::vector<LoadedPluginInfo> loaded() const;
  const std::vector<RefusedPlugin>& refused() const { return refused_; }

 private:
  struct Entry {
    LoadedPluginInfo info;
    // One of the two: the plugin in this process, or its worker.
    std::unique_ptr<LoadedPlugin> plugin;
    std::unique_ptr<MergeWorker> worker;
    std::unique_ptr<MergeFunction> in_process;
    std::unique_ptr<MergeGuard> guard;
    std::unique_ptr<MergeResolver> resolver;
  };

  Clock* clock_;
  MetricsRegistry* metrics_;
  MergeGuardOptions guard_options_;
  // By "merge:<name>".
  std::map<std::string, Entry, std::less<>> entries_;
  std::vector<RefusedPlugin> refused_;

  // Adds `entry` (its info and function set) under its name, unless one of
  // that name is loaded already.
  Status Add(Entry entry, MergeFunction* function);
};

}  // namespace ringkv
