// ringkv-node: one ringkv server process. Wires the real world (libevent
// loop and timers, system clock, TCP transport, LevelDB) to the protocol
// (replication/service.h) and serves docs/wire-protocol.md.
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 2 for bad flags or
// configuration, 1 for a runtime failure (port busy, database locked).
#include <event2/event.h>
#include <signal.h>
#include <sys/resource.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/host_port.h"
#include "common/metrics.h"
#include "http/http_server.h"
#include "common/tls.h"
#include "merge/plugin_catalog.h"
#include "node/cluster_file.h"
#include "node/client_tokens.h"
#include "node/cluster_secret.h"
#include "node/connection_limits.h"
#include "node/event_loop.h"
#include "node/log_format.h"
#include "node/memory_release.h"
#include "node/join_request.h"
#include "node/node.h"
#include "node/peer_handshake.h"
#include "node/peer_transport.h"
#include "node/plugin_info.h"
#include "node/server.h"
#include "node/service_sink.h"
#include "node/shutdown_drain.h"
#include "node/socket_util.h"
#include "node/system_clock.h"
#include "proto/codec.h"
#include "replication/service.h"
#include "ring/ring.h"
#include "ring/ring_state.h"
#include "storage/cached_storage.h"
#include "storage/leveldb_storage.h"

namespace ringkv {
namespace {

constexpr int kExitRuntime = 1;
constexpr int kExitConfig = 2;

struct Flags {
  std::string cluster;
  std::string node;
  std::string data;
  bool sync = false;
  LogOptions log;
  uint32_t max_frame_bytes = kDefaultMaxFrameBytes;
  std::string listen;
  std::string advertise;
  uint32_t gossip_interval_ms = 1000;
  double phi_threshold = 8.0;
  double hint_rate = 2000;
  uint32_t request_timeout_ms = 5000;
  uint32_t cache_mb = 64;
  uint32_t object_cache_mb = 32;
  uint32_t write_buffer_mb = 16;
  std::string compression = "snappy";
  ConnectionLimits limits;
  uint32_t max_buffered_mb = static_cast<uint32_t>(ConnectionLimits{}.max_buffered_bytes >> 20);
  std::string cluster_secret_file;
  bool insecure_no_peer_auth = false;
  std::string plugins;
  // Plugins run in a ringkv-merge-worker each (docs/plugins.md, "Worker mode").
  std::vector<std::string> plugin_workers;
  std::string plugin_worker_binary;
  uint32_t plugin_worker_deadline_ms = 50;
  uint32_t plugin_worker_memory_mb = 512;
  std::string http;  // empty: no HTTP listener
  http::HttpOptions http_options;
  int64_t http_deadline_ms = 10'000;
  bool insecure_dev = false;
  TlsFiles tls;
  bool tls_client_certs = false;
  std::string client_tokens;
  std::string aae = "on";
  uint32_t aae_interval_ms = 2000;
  std::string hinted_handoff = "on";
  uint32_t shutdown_grace_ms = 5000;
  // Ring changes (docs/ring-changes.md).
  std::string join;
  uint32_t partitions = kDefaultPartitions;
  uint32_t n = 3;
  uint32_t join_timeout_ms = 10'000;
  uint32_t ring_tick_ms = 1000;
  uint32_t transfers_per_node = 2;
  double transfer_mib_per_sec = 32;
  uint32_t transfer_settle_ms = 5000;
  uint32_t cleanup_delay_ms = 10'000;
  uint32_t transfer_batch_kb = 256;
};

int Fail(int code, const std::string& what) {
  std::fprintf(stderr, "ringkv-node: %s\n", what.c_str());
  return code;
}

// Every connection is a descriptor: the soft limit is raised to the hard one
// (1024 soft is common), and a cap the limit cannot hold is said at start.
void RaiseOpenFileLimit(size_t max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  // Room beyond the connections for LevelDB's files, peers and logs.
  constexpr rlim_t kOtherFiles = 256;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < max_connections + kOtherFiles) {
    spdlog::warn("open file limit {} is below --max-connections {} plus {} for other files: "
                 "accepts may fail before the cap is reached",
                 limit.rlim_cur, max_connections, kOtherFiles);
  }
}

// The secret peers authenticate with (docs/security.md); none only when the
// operator spelled out --insecure-no-peer-auth. Without
// --cluster-secret-file, the one ringkv-cluster keeps beside the cluster file
// is used, so node commands written before peers authenticated still start
// the node they did; a node with no peers makes up one nobody knows, so no
// connection can pass as a peer.
Result<std::optional<std::string>> PeerSecret(const Flags& flags, size_t members) {
  if (flags.insecure_no_peer_auth) {
    if (!flags.cluster_secret_file.empty()) {
      return Status::InvalidArgument(
          "--cluster-secret-file and --insecure-no-peer-auth exclude each other");
    }
    return std::optional<std::string>();
  }
  std::string file = flags.cluster_secret_file;
  if (file.empty() && !flags.cluster.empty()) {
    std::filesystem::path beside =
        std::filesystem::path(flags.cluster).parent_path() / "cluster-secret";
    std::error_code ec;
    if (std::filesystem::exists(beside, ec)) file = beside.string();
  }
  if (file.empty() && members > 1) {
    return Status::InvalidArgument(
        "no cluster secret: pass --cluster-secret-file FILE (ringkv-cluster start writes "
        "DIR/cluster-secret and nodes find it beside DIR/cluster.toml), or "
        "--insecure-no-peer-auth to let anyone who can reach this node act as a peer "
        "(development only)");
  }
  Result<std::string> secret = file.empty() ? RandomClusterSecret() : ReadClusterSecret(file);
  if (!secret.ok()) return Status::InvalidArgument("cluster secret: " + secret.status().message());
  return std::optional<std::string>(std::move(secret).value());
}

// The merge worker: --plugin-worker-binary, else beside this executable,
// else in the build tree's merge/, else ringkv-merge-worker on PATH.
std::string MergeWorkerBinary(const Flags& flags) {
  if (!flags.plugin_worker_binary.empty()) return flags.plugin_worker_binary;
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  for (const std::filesystem::path& candidate :
       {self.parent_path() / "ringkv-merge-worker",
        self.parent_path() / ".." / "merge" / "ringkv-merge-worker"}) {
    if (std::filesystem::exists(candidate, ec)) return candidate.string();
  }
  return "ringkv-merge-worker";
}

// The merge plugins of --plugins, each law-checked in a child before use
// (docs/plugins.md). A refused plugin, or a bucket naming one this node
// lacks, is logged as an error and the node serves on: such a bucket keeps
// its siblings, which loses nothing.
Status LoadPlugins(const Flags& flags, const BucketTable& buckets, PluginCatalog* catalog,
                   MetricsRegistry* metrics) {
  if (!flags.plugins.empty()) {
    PluginWorkers workers;
    workers.files = flags.plugin_workers;
    if (!workers.files.empty()) {
      workers.options.binary = MergeWorkerBinary(flags);
      workers.options.call_deadline_us = int64_t{flags.plugin_worker_deadline_ms} * 1000;
      workers.options.memory_bytes = uint64_t{flags.plugin_worker_memory_mb} << 20;
    }
    RINGKV_RETURN_IF_ERROR(catalog->LoadDir(flags.plugins, LawCheckOptions{}, workers));
  }
  for (const std::string& f : flags.plugin_workers) {
    bool found = false;
    for (const LoadedPluginInfo& p : catalog->loaded()) {
      found = found || (p.in_worker && PluginWorkers{{f}, {}}.Chosen(p.path));
    }
    for (const RefusedPlugin& r : catalog->refused()) {
      found = found || PluginWorkers{{f}, {}}.Chosen(r.path);
    }
    if (!found) spdlog::warn("--plugin-worker {}: no such plugin in --plugins", f);
  }
  for (const LoadedPluginInfo& p : catalog->loaded()) {
    spdlog::info("merge plugin {} version {} (sha256 {}) loaded from {}{}", p.name, p.version,
                 p.sha256, p.path, p.in_worker ? ", running in a worker process" : "");
  }
  for (const RefusedPlugin& r : catalog->refused()) spdlog::error("{}", r.reason);
  for (const MissingPlugin& m : MissingPlugins(*catalog, buckets)) spdlog::error("{}", m.Describe());
  // What `ringkv-admin plugins` lists besides the loaded plugins
  // (node/plugin_info.h), as info gauges (value 1) in the status reply.
  for (const RefusedPlugin& r : catalog->refused()) {
    metrics->AddGauge("ringkv_merge_plugin_refused",
                      "A merge plugin this node refused at start (value 1), and why.",
                      {{"path", r.path}, {"reason", r.reason}})
        ->Set(1);
  }
  return Status::OK();
}

struct EventDeleter {
  void operator()(event* ev) const { event_free(ev); }
};

int Run(const Flags& flags) {
  if (Status st = ConfigureLogging(flags.log); !st.ok()) return Fail(kExitConfig, st.message());

  // Without a cluster file a node starts alone (its own one-member ring)
  // or, with --join, from the ring a member answers the join with.
  Result<ClusterFile> cluster = ClusterFile{};
  if (!flags.cluster.empty()) {
    cluster = ReadClusterFile(flags.cluster);
    if (!cluster.ok()) {
      return Fail(kExitConfig, "cluster file " + flags.cluster + ": " + cluster.status().ToString());
    }
  } else {
    if (flags.listen.empty()) {
      return Fail(kExitConfig, "without --cluster, --listen HOST:PORT is needed");
    }
    const std::string member_address = flags.advertise.empty() ? flags.listen : flags.advertise;
    cluster->partitions = flags.partitions;
    cluster->n = flags.n;
    cluster->members.push_back({flags.node.empty() ? member_address : flags.node, member_address});
    BucketProps defaults;
    defaults.n = flags.n;
    defaults.r = defaults.w = flags.n / 2 + 1;
    cluster->buckets = BucketTable(defaults);
  }
  const NodeId self_id =
      !flags.node.empty() ? flags.node : flags.advertise.empty() ? flags.listen : flags.advertise;
  const ClusterMember* self = nullptr;
  std::vector<NodeId> ids;
  std::map<NodeId, std::string> addresses;
  for (const ClusterMember& m : cluster->members) {
    ids.push_back(m.id);
    addresses[m.id] = m.address;
    if (m.id == self_id) self = &m;
  }
  if (self == nullptr) {
    return Fail(kExitConfig, "node '" + self_id + "' is not a member of " + flags.cluster);
  }
  Result<std::optional<std::string>> peer_secret =
      PeerSecret(flags, flags.join.empty() ? cluster->members.size() : 2);
  if (!peer_secret.ok()) return Fail(kExitConfig, peer_secret.status().message());
  const std::optional<std::string> secret = std::move(peer_secret).value();
  ServerOptions server_options;
  server_options.max_frame_bytes = flags.max_frame_bytes;
  server_options.limits = flags.limits;
  server_options.limits.max_buffered_bytes = size_t{flags.max_buffered_mb} << 20;
  TuneAllocator();
  RaiseOpenFileLimit(server_options.limits.max_connections);
  const std::string listen = flags.listen.empty() ? self->address : flags.listen;
  // Where the others reach this node: its member address. A node listening
  // on every address (0.0.0.0:7000 in a pod) is reached by a name or an
  // address of its own, which --advertise gives.
  const std::string advertised = !flags.advertise.empty() ? flags.advertise : self->address;
  if (Result<HostPort> at = ParseHostPort(advertised); !at.ok()) {
    return Fail(kExitConfig, "--advertise: " + at.status().ToString());
  } else if (at->host == "0.0.0.0" || at->host == "::") {
    const std::string why = "the member address " + advertised + " is no address others can "
                            "reach: give --advertise HOST:PORT (this node's name or address)";
    if (!flags.join.empty()) return Fail(kExitConfig, why);
    spdlog::warn("{}; no other node can join this one", why);
  }
  Result<HostPort> listen_at = ParseHostPort(listen);
  if (!listen_at.ok()) return Fail(kExitConfig, "listen address: " + listen_at.status().ToString());
  server_options.host = listen_at->host;
  server_options.port = listen_at->port;
  // Off this machine, plain TCP would let anyone on the path read every
  // value and act as any client (docs/security.md).
  const bool tls = !flags.tls.cert.empty() || !flags.tls.key.empty() || !flags.tls.ca.empty();
  if (!tls && !IsLoopbackHost(listen_at->host) && !flags.insecure_dev) {
    return Fail(kExitConfig,
                "refusing to listen on " + listen + " without TLS: it is not a loopback address, "
                "so anyone on that network could read the traffic and act as any client; give "
                "--tls-cert, --tls-key and --tls-ca (docs/security.md), listen on 127.0.0.1, or "
                "pass --insecure-dev for development");
  }
  if (flags.tls_client_certs && !tls) {
    return Fail(kExitConfig, "--tls-client-certs needs --tls-cert, --tls-key and --tls-ca");
  }
  // One context accepts, the other dials peers; both present this node's
  // certificate and trust only the cluster CA.
  std::shared_ptr<TlsContext> tls_server, tls_client;
  if (tls) {
    if (flags.tls.cert.empty() || flags.tls.key.empty() || flags.tls.ca.empty()) {
      return Fail(kExitConfig, "TLS needs all of --tls-cert, --tls-key and --tls-ca");
    }
    Result<std::shared_ptr<TlsContext>> server_ctx =
        TlsContext::ForServer(flags.tls, flags.tls_client_certs);
    if (!server_ctx.ok()) return Fail(kExitConfig, "TLS: " + server_ctx.status().message());
    Result<std::shared_ptr<TlsContext>> client_ctx = TlsContext::ForClient(flags.tls);
    if (!client_ctx.ok()) return Fail(kExitConfig, "TLS: " + client_ctx.status().message());
    tls_server = *server_ctx;
    tls_client = *client_ctx;
    server_options.tls = tls_server.get();
  }
  if (!tls && !IsLoopbackHost(listen_at->host)) {
    spdlog::warn("listening on {} without TLS (--insecure-dev): traffic is readable and clients "
                 "unauthenticated",
                 listen);
  }
  Result<Ring> ring = Ring::Create(ids, cluster->partitions, cluster->n);
  if (!ring.ok()) return Fail(kExitConfig, "ring: " + ring.status().ToString());
  std::vector<StateMember> state_members;
  for (const ClusterMember& m : cluster->members) {
    state_members.push_back({m.id, m.address, MemberStatus::kValid});
  }
  Result<RingState> ring_state = BootstrapState(std::move(state_members), cluster->partitions,
                                                cluster->n, BucketInfos(cluster->buckets));
  if (!ring_state.ok()) return Fail(kExitConfig, "ring: " + ring_state.status().ToString());

  // The node's one registry: every component below registers its figures
  // in it, and status replies carry them (docs/metrics.md). Declared before
  // them all, so it outlives their handles.
  MetricsRegistry metrics;

  // The data directory's size on disk (LevelDB tables and logs, hints),
  // read at each snapshot: a directory walk, cheap next to a scrape.
  MetricsRegistry::CallbackHandle disk_bytes = metrics.AddGaugeCallback(
      "ringkv_storage_disk_bytes", "Bytes of the files in the node's data directory.", {},
      [dir = flags.data] {
        uintmax_t total = 0;
        std::error_code walk_error;
        for (auto it = std::filesystem::recursive_directory_iterator(dir, walk_error);
             !walk_error && it != std::filesystem::recursive_directory_iterator();
             it.increment(walk_error)) {
          std::error_code size_error;
          if (it->is_regular_file(size_error)) total += it->file_size(size_error);
        }
        return static_cast<double>(total);
      });

  std::error_code ec;
  std::filesystem::create_directories(flags.data, ec);
  if (ec) return Fail(kExitRuntime, "cannot create data directory " + flags.data + ": " + ec.message());
  LevelDbOptions db_options;
  db_options.block_cache_bytes = size_t{flags.cache_mb} << 20;
  db_options.write_buffer_bytes = size_t{flags.write_buffer_mb} << 20;
  db_options.compression = flags.compression == "snappy";
  Result<std::unique_ptr<Storage>> storage = LevelDbStorage::Open(flags.data, db_options);
  if (!storage.ok()) {
    return Fail(kExitRuntime, "cannot open database in " + flags.data + ": " +
                                  storage.status().ToString());
  }
  // Before anything listens: the member staged the join when it answers,
  // and this node starts from its ring. A restart of a node that is a
  // member already starts from the ring it persisted instead.
  Result<std::optional<RingState>> persisted = RingKeeper::Load(storage->get());
  if (!persisted.ok()) return Fail(kExitRuntime, persisted.status().ToString());
  const bool member_already = *persisted && (*persisted)->Find(self_id) != nullptr &&
                              (*persisted)->Find(self_id)->status != MemberStatus::kExiting;
  if (!flags.join.empty() && !member_already) {
    // Over TLS when this node runs with it, trusting the cluster CA and
    // presenting no certificate (the node is no member yet).
    std::shared_ptr<TlsContext> join_tls;
    if (tls) {
      Result<std::shared_ptr<TlsContext>> ctx = TlsContext::ForClient(TlsFiles{flags.tls.ca, "", ""});
      if (!ctx.ok()) return Fail(kExitConfig, "TLS: " + ctx.status().message());
      join_tls = *ctx;
    }
    Result<RingState> joined = RequestJoin(flags.join, self_id, advertised, /*auth_token=*/"",
                                           flags.join_timeout_ms, join_tls.get());
    if (!joined.ok()) {
      return Fail(kExitRuntime, "join through " + flags.join + ": " + joined.status().ToString());
    }
    spdlog::info("join staged through {}: ring epoch {}, {} members", flags.join, joined->epoch,
                 joined->members.size());
    // The cluster's bucket properties, not this node's defaults.
    cluster->buckets.Assign(joined->buckets);
    ring_state = std::move(joined);
  }
  ServiceOptions options;
  options.self = self_id;
  options.addresses = addresses;
  options.buckets = cluster->buckets;
  options.sync_writes = flags.sync;
  options.default_timeout_ms = flags.request_timeout_ms;
  options.hint_rate_per_sec = flags.hint_rate;
  options.deliver_hints = flags.hinted_handoff == "on";
  options.gossip.interval_us = int64_t{flags.gossip_interval_ms} * 1000;
  options.gossip.phi_threshold = flags.phi_threshold;
  options.warn = [](const std::string& line) { spdlog::warn("{}", line); };
  NodeConfig config;
  config.service = std::move(options);
  config.object_cache_bytes = size_t{flags.object_cache_mb} << 20;
  config.aae.enabled = flags.aae == "on";
  config.aae.interval_us = int64_t{flags.aae_interval_ms} * 1000;
  config.ring_state = std::move(ring_state).value();
  config.ring_changes.tick_us = int64_t{flags.ring_tick_ms} * 1000;
  config.ring_changes.transfers.per_node = flags.transfers_per_node;
  config.ring_changes.transfers.mib_per_sec = flags.transfer_mib_per_sec;
  config.ring_changes.transfers.settle_us = int64_t{flags.transfer_settle_ms} * 1000;
  config.ring_changes.transfers.batch_bytes = size_t{flags.transfer_batch_kb} << 10;
  config.ring_changes.cleanup_delay_us = int64_t{flags.cleanup_delay_ms} * 1000;
  config.ring_changes.warn = [](const std::string& line) { spdlog::warn("{}", line); };
  config.ring_changes.info = [](const std::string& line) { spdlog::info("{}", line); };
  config.storage_info = [](const std::string& line) { spdlog::info("{}", line); };

  EventLoop loop;
  SystemClock clock;
  // Before any thread or connection exists: the law check forks.
  PluginCatalog plugins(&clock, &metrics);
  if (Status st = LoadPlugins(flags, config.service.buckets, &plugins, &metrics); !st.ok()) {
    return Fail(kExitConfig, st.message());
  }
  config.service.buckets.set_catalog(&plugins);
  Random random(std::random_device{}());
  PeerTransportOptions transport_options;
  // Peer connections leave from the address the node listens on, as
  // Cassandra's do from its listen_address: a peer then sees the node's own
  // address, and a firewall rule between two nodes' addresses (per-node
  // loopback addresses, docs/chaos.md) cuts exactly that pair.
  if (IsSpecificNumericHost(server_options.host)) {
    transport_options.source_host = server_options.host;
  }
  // Membership is the service's, built below; until then, the cluster file's.
  Service* service_for_auth = nullptr;
  auto is_member = [&service_for_auth, &addresses](const NodeId& id) {
    return service_for_auth != nullptr ? service_for_auth->membership().addresses().count(id) > 0
                                       : addresses.count(id) > 0;
  };
  std::optional<PeerAuthenticator> auth;
  if (secret) {
    auth.emplace(self_id, *secret, is_member);
    transport_options.auth = &*auth;
    server_options.peer_auth = &*auth;
  } else {
    spdlog::warn("peer authentication is off (--insecure-no-peer-auth): anyone who can reach "
                 "this node can act as a peer");
  }
  transport_options.tls = tls_client.get();
  server_options.is_member = is_member;
  PeerTransport transport(&loop, self_id, addresses, nullptr, &metrics, transport_options);
  Result<std::unique_ptr<Node>> node =
      Node::Open(std::move(config), std::move(ring).value(),
                 NodeEnv{&clock, &loop, &transport, storage->get(), &random,
                         /*reachability=*/&transport, &metrics, /*fresh_incarnation=*/nullptr});
  if (!node.ok()) {
    return Fail(kExitRuntime, "node metadata in " + flags.data + ": " + node.status().ToString());
  }
  Service& service = (*node)->service();
  service_for_auth = &service;
  // The ring state may be newer than the file's: connect to its members.
  transport.SetMembers(service.membership().addresses());
  // The transport connects to the members of the current ring epoch.
  service.membership().Subscribe([&transport, &service](const Ring&) {
    transport.SetMembers(service.membership().addresses());
  });
  if (Status st = (*node)->Start(); !st.ok()) {
    return Fail(kExitRuntime, "cannot start the service: " + st.ToString());
  }
  // Evaluated at each snapshot from the buckets the service uses now, which
  // the ring state changes (`ringkv-admin bucket`).
  MetricsRegistry::CallbackHandle plugin_info = metrics.AddGaugeFamilyCallback(
      "ringkv_merge_plugin_info",
      "A merge plugin this node loaded (value 1): name, version, SHA-256, file, the buckets "
      "that use it and where it runs (in-process or worker).",
      [&plugins, &service] { return PluginInfoSeries(plugins, service.options().buckets); });
  MetricsRegistry::CallbackHandle plugin_missing = metrics.AddGaugeFamilyCallback(
      "ringkv_merge_plugin_missing",
      "A bucket whose resolver is a merge plugin this node has not loaded, or not in the pinned "
      "version and hash (value 1): its siblings are kept unmerged here.",
      [&plugins, &service] { return MissingPluginSeries(plugins, service.options().buckets); });
  // A bucket that the ring state (kept from before a restart, or changed
  // later) sets to a plugin this node lacks is logged as one named at start
  // is (LoadPlugins), once each time it becomes missing.
  std::vector<MissingPlugin> missing = MissingPlugins(plugins, config.service.buckets);
  auto report_missing = [&plugins, &service, &missing] {
    std::vector<MissingPlugin> now = MissingPlugins(plugins, service.options().buckets);
    for (const MissingPlugin& m : now) {
      if (std::find(missing.begin(), missing.end(), m) == missing.end()) {
        spdlog::error("{}", m.Describe());
      }
    }
    missing = std::move(now);
  };
  report_missing();
  service.membership().Subscribe([&report_missing](const Ring&) { report_missing(); });
  std::optional<ClientTokens> tokens;
  if (!flags.client_tokens.empty()) {
    Result<ClientTokens> loaded = ClientTokens::Load(flags.client_tokens);
    if (!loaded.ok()) return Fail(kExitConfig, loaded.status().message());
    tokens = std::move(loaded).value();
    spdlog::info("clients authenticate with one of {} tokens of {}", tokens->size(),
                 flags.client_tokens);
  }
  ServiceSink sink(&service, &transport, tokens ? &*tokens : nullptr, &metrics);
  Server server(&loop, server_options, &sink, &metrics);
  if (Status st = server.Start(); !st.ok()) return Fail(kExitRuntime, st.ToString());
  // A peer removed from the ring loses its authenticated connections.
  service.membership().Subscribe([&server](const Ring&) { server.DropFormerMembers(); });
  // The HTTP API (docs/http-api.md) on the same loop, calling the same
  // service entry point as the binary protocol.
  std::unique_ptr<http::HttpServer> http_server;
  if (!flags.http.empty()) {
    Result<HostPort> http_at = ParseHostPort(flags.http);
    if (!http_at.ok()) return Fail(kExitConfig, "--http: " + http_at.status().ToString());
    // Over TLS when the node has it, with the tokens of the binary protocol
    // when it has them: HTTP is never a way around either.
    if (!tls_server && !IsLoopbackHost(http_at->host) && !flags.insecure_dev) {
      return Fail(kExitConfig, "refusing HTTP on " + flags.http + " without TLS: serve it on "
                               "127.0.0.1, give the node --tls-cert, --tls-key and --tls-ca, or "
                               "pass --insecure-dev for development");
    }
    http::HttpOptions http_options = flags.http_options;
    http_options.host = http_at->host;
    http_options.port = http_at->port;
    http_options.guard.request_deadline_us = flags.http_deadline_ms * 1000;
    http_server = std::make_unique<http::HttpServer>(
        http_options,
        http::HttpEnv{loop.base(), &loop, &clock, &metrics, &service, storage->get(), tls_server,
                      tokens ? std::function<Status(const Message&)>(
                                   [&sink](const Message& m) { return sink.Authorize(m); })
                             : nullptr});
    if (Status st = http_server->Start(); !st.ok()) return Fail(kExitRuntime, st.ToString());
    spdlog::info("ringkv-node {} serving {} on {}{}", self_id, tls_server ? "HTTPS" : "HTTP",
                 JoinHostPort(http_options.host, http_server->port()),
                 tokens ? " (bearer tokens required)" : "");
  }

  ShutdownDrain drain(&loop, &server, &clock, int64_t{flags.shutdown_grace_ms} * 1000,
                      [&service] {
                        uint64_t deliverable = 0;
                        for (const auto& [target, count] : service.HintCounts()) {
                          if (service.liveness().IsUp(target)) deliverable += count;
                        }
                        return deliverable;
                      });
  auto on_signal = [](evutil_socket_t sig, short, void* arg) {
    static_cast<ShutdownDrain*>(arg)->OnSignal(static_cast<int>(sig));
  };
  std::unique_ptr<event, EventDeleter> sigterm(evsignal_new(loop.base(), SIGTERM, on_signal, &drain));
  std::unique_ptr<event, EventDeleter> sigint(evsignal_new(loop.base(), SIGINT, on_signal, &drain));
  evsignal_add(sigterm.get(), nullptr);
  evsignal_add(sigint.get(), nullptr);

  spdlog::info("ringkv-node {} serving on {} (incarnation {:016x}, ring epoch {}, {} members, "
               "data {})",
               self_id, JoinHostPort(server_options.host, server.port()), (*node)->incarnation(),
               service.membership().epoch(), service.membership().addresses().size(), flags.data);
  loop.Run();

  http_server.reset();
  server.CloseAll();
  if (Status st = (*node)->Shutdown(); !st.ok()) {
    spdlog::warn("anti-entropy trees not saved ({}); the next start rebuilds them", st.ToString());
  }
  transport.Close();
  spdlog::info("ringkv-node {} stopped", self_id);
  return 0;
}

// A numeric flag with its range checked and its default shown in --help:
// the shape of most of the node's tuning flags.
template <typename T, typename Bound>
CLI::Option* AddBounded(CLI::App& app, const std::string& name, T& value, const std::string& help,
                        Bound low, Bound high) {
  return app.add_option(name, value, help)->check(CLI::Range(low, high))->capture_default_str();
}

// A word flag that takes one of `choices`, its default shown in --help.
CLI::Option* AddChoice(CLI::App& app, const std::string& name, std::string& value,
                       const std::string& help, std::vector<std::string> choices) {
  return app.add_option(name, value, help)
      ->check(CLI::IsMember(std::move(choices)))
      ->capture_default_str();
}

}  // namespace
}  // namespace ringkv

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  ringkv::Flags flags;
  CLI::App app{"ringkv-node: one ringkv server process (docs/wire-protocol.md)"};
  using ringkv::AddBounded;
  using ringkv::AddChoice;
  app.add_option("--cluster", flags.cluster,
                 "cluster file (TOML, docs/cluster-file.md): every member at once, ring epoch 1; "
                 "without it the node starts alone or --join's");
  app.add_option("--node", flags.node,
                 "this node's id (in the cluster file; default without one: --listen)");
  app.add_option("--join", flags.join,
                 "HOST:PORT of any member: stage this node's join there and start from its "
                 "ring (docs/ring-changes.md); over TLS when this node has TLS");
  app.add_option("--partitions", flags.partitions,
                 "partitions of a node started alone (a power of two)")
      ->capture_default_str();
  AddBounded(app, "--n", flags.n, "replicas per key of a node started alone", 1u, 64u);
  AddBounded(app, "--join-timeout-ms", flags.join_timeout_ms, "deadline of the --join request",
             1u, 3'600'000u);
  AddBounded(app, "--ring-tick-ms", flags.ring_tick_ms,
             "period of the ring keeper: transfers start, completions, cleanup", 10u, 600'000u);
  AddBounded(app, "--transfers-per-node", flags.transfers_per_node,
             "partition transfers this node sends at once", 1u, 1024u);
  AddBounded(app, "--transfer-mib-per-sec", flags.transfer_mib_per_sec,
             "pace of this node's outgoing transfers, MiB/s (0 = unpaced)", 0.0, 1e6);
  AddBounded(app, "--transfer-settle-ms", flags.transfer_settle_ms,
             "after every member knows a change, wait this long (a request deadline) "
             "before streaming", 0u, 3'600'000u);
  AddBounded(app, "--transfer-batch-kb", flags.transfer_batch_kb,
             "objects per transfer batch, by their size in KiB (and the checkpoint's grain)",
             1u, 8192u);
  AddBounded(app, "--transfer-cleanup-delay-ms", flags.cleanup_delay_ms,
             "after a change completes, wait this long before deleting what this node "
             "no longer replicates", 0u, 86'400'000u);
  app.add_option("--data", flags.data, "data directory (created if missing)")->required();
  app.add_flag("--sync", flags.sync, "fsync every object write before acknowledging it");
  app.set_config("--config", "", "read options from this TOML file (docs/node-config.md); "
                 "flags on the command line win");
  app.allow_config_extras(CLI::config_extras_mode::error);
  AddChoice(app, "--log-level", flags.log.level,
            "trace|debug|info|warn|error|critical|off",
            {"trace", "debug", "info", "warn", "error", "critical", "off"});
  app.add_option("--log-file", flags.log.file, "log to this file instead of stderr; - for stdout");
  AddChoice(app, "--log-format", flags.log.format,
            "text, or one record per line for a log collector: json or logfmt",
            {"text", "json", "logfmt"});
  AddBounded(app, "--max-frame-bytes", flags.max_frame_bytes, "largest accepted frame body",
             64u, 1u << 30);
  app.add_option("--cluster-secret-file", flags.cluster_secret_file,
                 "file with the cluster secret peers authenticate with (mode 0600; "
                 "docs/security.md)");
  app.add_flag("--insecure-no-peer-auth", flags.insecure_no_peer_auth,
               "run without a cluster secret: peers are not authenticated (development only)");
  app.add_flag("--insecure-dev", flags.insecure_dev,
               "allow a listener on a non-loopback address without TLS (development only)");
  app.add_option("--tls-cert", flags.tls.cert,
                 "this node's certificate (PEM, ringkv-admin cert issue); with --tls-key and "
                 "--tls-ca, every connection is TLS 1.3");
  app.add_option("--tls-key", flags.tls.key, "the private key of --tls-cert (PEM)");
  app.add_option("--tls-ca", flags.tls.ca, "the cluster CA certificate (PEM)");
  app.add_flag("--tls-client-certs", flags.tls_client_certs,
               "require every connection, clients too, to present a certificate of the CA");
  app.add_option("--client-tokens", flags.client_tokens,
                 "require client requests (but ping) to carry a token of this file, with the "
                 "grant they need (ringkv-admin token create; docs/security.md)");
  app.add_option("--listen", flags.listen, "HOST:PORT to listen on (default: member address)");
  app.add_option("--advertise", flags.advertise,
                 "HOST:PORT the others reach this node by, when it starts alone or joins "
                 "(default: --listen; needed when that is 0.0.0.0)");
  app.add_option("--plugins", flags.plugins,
                 "directory of merge plugins (*.so, docs/plugins.md), law-checked at start")
      ->check(CLI::ExistingDirectory);
  app.add_option("--plugin-worker", flags.plugin_workers,
                 "run this plugin of --plugins (its file name, e.g. max.so or max; * for all) "
                 "in a worker process of its own: a crash, hang or memory blow-up of it keeps "
                 "siblings instead of taking the node down (repeatable)");
  app.add_option("--plugin-worker-binary", flags.plugin_worker_binary,
                 "the ringkv-merge-worker executable, a path or a name on PATH (default: beside "
                 "ringkv-node, else on PATH)");
  AddBounded(app, "--plugin-worker-deadline-ms", flags.plugin_worker_deadline_ms,
             "a merge in a worker may take this long (plus 200 ms per MiB of values); then the "
             "worker is killed, the siblings stay, and the node's loop waited no longer",
             1u, 10'000u);
  AddBounded(app, "--plugin-worker-memory-mb", flags.plugin_worker_memory_mb,
             "address space of a merge worker (RLIMIT_AS), MiB", 64u, 1u << 20);
  AddBounded(app, "--cache-mb", flags.cache_mb, "LevelDB block cache, MiB", 1u, 1u << 20);
  AddBounded(app, "--object-cache-mb", flags.object_cache_mb,
             "records cached above LevelDB, MiB (0 = none)", 0u, 1u << 20);
  AddBounded(app, "--write-buffer-mb", flags.write_buffer_mb,
             "LevelDB memtable, MiB (two may be alive during a flush)", 1u, 1u << 10);
  AddChoice(app, "--compression", flags.compression,
            "LevelDB table blocks: snappy, or none (no compression work in flushes, "
            "compactions and reads outside the block cache)",
            {"snappy", "none"});
  AddBounded(app, "--request-timeout-ms", flags.request_timeout_ms,
             "deadline of a request that carries none", 1u, 3'600'000u);
  app.add_option("--gossip-interval-ms", flags.gossip_interval_ms,
                 "heartbeat gossip period; failure detection takes about 18x this at phi 8")
      ->check(CLI::Range(10u, 60'000u))
      ->capture_default_str();
  AddBounded(app, "--phi-threshold", flags.phi_threshold,
             "phi-accrual suspicion level at which a peer is marked down", 0.5, 100.0);
  AddBounded(app, "--hint-rate", flags.hint_rate,
             "hinted-handoff deliveries per second from this node (all targets)", 1.0, 1e7);
  ringkv::ConnectionLimits& limits = flags.limits;
  app.add_option("--max-connections", limits.max_connections,
                 "open connections (clients and peers); at the cap the longest idle is closed")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  AddBounded(app, "--idle-timeout-ms", limits.idle_timeout_ms,
             "close a connection with nothing in progress for this long (0 = never)",
             int64_t{0}, int64_t{86'400'000});
  AddBounded(app, "--frame-deadline-ms", limits.frame_deadline_ms,
             "close a connection whose frame is not whole this long after its first byte",
             int64_t{10}, int64_t{3'600'000});
  app.add_option("--max-connection-requests", limits.max_requests_in_flight,
                 "requests served at once per connection; past it the connection is not read")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
  app.add_option("--max-connection-output-bytes", limits.max_output_bytes,
                 "unsent reply bytes per connection; past it the connection is not read")
      ->check(CLI::Range(size_t{4096}, size_t{1} << 30))
      ->capture_default_str();
  app.add_option("--max-buffered-mb", flags.max_buffered_mb,
                 "connection buffers of the whole node, MiB; past it large frames wait")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
  app.add_option("--http", flags.http,
                 "HOST:PORT to serve the HTTP API, /metrics, probes and the page on "
                 "(docs/http-api.md; default: none)");
  app.add_option("--http-max-connections", flags.http_options.guard.max_connections,
                 "open HTTP connections; past it a new one gets 503 and is closed")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  AddBounded(app, "--http-deadline-ms", flags.http_deadline_ms,
             "an HTTP request must be whole this long after its connection starts "
             "waiting for it (408 and close otherwise)", int64_t{10}, int64_t{3'600'000});
  AddBounded(app, "--http-max-header-bytes", flags.http_options.max_header_bytes,
             "request line and headers of an HTTP request (431 past it)",
             size_t{1024}, size_t{1} << 20);
  AddBounded(app, "--http-max-body-bytes", flags.http_options.max_body_bytes,
             "body of an HTTP request (413 past it)", size_t{1024}, size_t{64} << 20);
  AddChoice(app, "--aae", flags.aae,
            "active anti-entropy: on, or off (no trees, no exchanges; turning it "
            "back on rebuilds the trees from the objects)",
            {"on", "off"});
  AddBounded(app, "--aae-interval-ms", flags.aae_interval_ms,
             "time between two anti-entropy exchanges of this node (one partition, one peer)",
             10u, 3'600'000u);
  AddChoice(app, "--hinted-handoff", flags.hinted_handoff,
            "on, or off: hints are still stored but never handed back (for tests)",
            {"on", "off"});
  AddBounded(app, "--shutdown-grace-ms", flags.shutdown_grace_ms,
             "after SIGTERM, how long to go on handing off hints to nodes that are up "
             "before exiting (a second signal exits at once)", 0u, 3'600'000u);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, or the error with a usage hint
    return code == 0 ? 0 : 2;
  }
  return ringkv::Run(flags);
}
