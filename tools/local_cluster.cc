#include "tools/local_cluster.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "client/client.h"
#include "common/host_port.h"
#include "node/cluster_secret.h"
#include "tools/certificates.h"
#include "tools/process.h"

namespace ringkv {
namespace fs = std::filesystem;

std::string LocalNodeAddress(uint32_t base_port, uint32_t i, bool distinct_hosts) {
  const std::string host = distinct_hosts ? "127.0.0." + std::to_string(i + 1) : "127.0.0.1";
  return host + ":" + std::to_string(base_port + i);
}

std::string LocalHttpAddress(const std::string& address) {
  Result<HostPort> at = ParseHostPort(address);
  if (!at.ok() || at->port + kHttpPortOffset > 65535) return "";
  return HostPort{at->host, static_cast<uint16_t>(at->port + kHttpPortOffset)}.ToString();
}

namespace {

using PortRange = std::pair<uint32_t, uint32_t>;  // inclusive

constexpr const char* kEphemeralRangePath = "/proc/sys/net/ipv4/ip_local_port_range";

// The ports the kernel hands to outgoing connections: "low<TAB>high".
std::optional<PortRange> EphemeralRange() {
  std::ifstream in(kEphemeralRangePath);
  uint32_t low = 0, high = 0;
  if (!(in >> low >> high)) return std::nullopt;
  return PortRange{low, high};
}

// The ports the kernel keeps out of that range: "a-b,c,..." (empty: none).
std::vector<PortRange> ReservedPorts() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_reserved_ports");
  std::vector<PortRange> ranges;
  std::string item;
  while (std::getline(in, item, ',')) {
    std::istringstream one(item);
    uint32_t low = 0, high = 0;
    char dash = 0;
    if (!(one >> low)) continue;
    ranges.emplace_back(low, (one >> dash >> high) && dash == '-' ? high : low);
  }
  return ranges;
}

}  // namespace

Status CheckPortsOutsideEphemeralRange(const ClusterFile& file) {
  const std::optional<PortRange> ephemeral = EphemeralRange();
  if (!ephemeral) return Status::OK();
  const auto [low, high] = *ephemeral;
  const std::vector<PortRange> reserved = ReservedPorts();
  for (const ClusterMember& m : file.members) {
    for (const std::string& serves : {m.address, LocalHttpAddress(m.address)}) {
      Result<HostPort> address = ParseHostPort(serves);
      if (!address.ok() || address->port < low || address->port > high) continue;
      const uint16_t port = address->port;
      if (std::any_of(reserved.begin(), reserved.end(), [port](const PortRange& r) {
            return port >= r.first && port <= r.second;
          })) {
        continue;
      }
      return Status::InvalidArgument(
          m.id + " would serve on " + serves + ", inside the kernel's ephemeral port range " +
          std::to_string(low) + "-" + std::to_string(high) + " (" + kEphemeralRangePath +
          "): an outgoing connection can take a stopped node's port and make its restart fail "
          "with 'Address already in use'; choose a --base-port below " +
          std::to_string(low > file.members.size() + kHttpPortOffset
                             ? low - file.members.size() - kHttpPortOffset
                             : 0) +
          " (HTTP ports are node ports + " + std::to_string(kHttpPortOffset) +
          ") or reserve the ports (sysctl net.ipv4.ip_local_reserved_ports)");
    }
  }
  return Status::OK();
}

namespace {

Status Conflict(const std::string& dir, const std::string& what) {
  return Status::InvalidArgument(dir + " already holds a cluster with " + what +
                                 "; stop it and remove the directory to start a different one");
}

// Checks the flags of `start` against the cluster already in `dir`.
Status CheckSpec(const std::string& dir, const ClusterFile& file, const LocalClusterSpec& spec) {
  if (spec.nodes && *spec.nodes != file.members.size()) {
    return Conflict(dir, std::to_string(file.members.size()) + " nodes");
  }
  if (spec.n && *spec.n != file.n) return Conflict(dir, "n=" + std::to_string(file.n));
  if (spec.partitions && *spec.partitions != file.partitions) {
    return Conflict(dir, std::to_string(file.partitions) + " partitions");
  }
  if ((spec.base_port || spec.distinct_hosts) && !file.members.empty()) {
    // What is not given is taken from n1's address, so that only the flags
    // given are compared.
    Result<HostPort> first = ParseHostPort(file.members.front().address);
    if (!first.ok()) return first.status();
    const uint32_t base = spec.base_port.value_or(first->port - 1u);
    const bool distinct = spec.distinct_hosts.value_or(first->host != "127.0.0.1");
    for (size_t i = 0; i < file.members.size(); ++i) {
      if (file.members[i].address !=
          LocalNodeAddress(base, static_cast<uint32_t>(i + 1), distinct)) {
        return Conflict(dir, file.members[i].id + " at " + file.members[i].address);
      }
    }
  }
  for (const auto& [name, props_spec] : spec.buckets) {
    Result<BucketProps> props = ParseBucketProps(props_spec, file.buckets.defaults());
    if (!props.ok()) return props.status();
    auto it = file.buckets.named().find(name);
    if (it == file.buckets.named().end() || !(it->second == *props)) {
      return Conflict(dir, it == file.buckets.named().end()
                               ? "no bucket " + name
                               : "bucket " + name + " as " + FormatBucketProps(it->second));
    }
  }
  return Status::OK();
}

Result<ClusterFile> NewClusterFile(const LocalClusterSpec& spec) {
  ClusterFile file;
  const uint32_t nodes = spec.nodes.value_or(kDefaultNodes);
  const uint32_t base = spec.base_port.value_or(kDefaultBasePort);
  if (nodes == 0) return Status::InvalidArgument("--nodes must be at least 1");
  if (base + nodes > 65535)
    return Status::InvalidArgument("--base-port leaves no room for the nodes");
  const bool distinct_hosts = spec.distinct_hosts.value_or(false);
  if (distinct_hosts && nodes > kMaxDistinctHostNodes) {
    return Status::InvalidArgument("--distinct-hosts allows at most " +
                                   std::to_string(kMaxDistinctHostNodes) +
                                   " nodes (127.0.0.2 to 127.0.0.254)");
  }
  file.n = spec.n.value_or(std::min<uint32_t>(3, nodes));
  if (file.n == 0 || file.n > nodes) {
    return Status::InvalidArgument("--n must be between 1 and the number of nodes (" +
                                   std::to_string(nodes) + ")");
  }
  file.partitions = spec.partitions.value_or(64);
  if (file.partitions == 0 || (file.partitions & (file.partitions - 1)) != 0) {
    return Status::InvalidArgument("--partitions must be a power of two");
  }
  if (file.partitions < nodes) {
    return Status::InvalidArgument("--partitions must be at least the number of nodes");
  }
  for (uint32_t i = 1; i <= nodes; ++i) {
    file.members.push_back({"n" + std::to_string(i), LocalNodeAddress(base, i, distinct_hosts)});
  }
  RINGKV_RETURN_IF_ERROR(CheckPortsOutsideEphemeralRange(file));
  BucketProps defaults;
  defaults.n = file.n;
  defaults.r = defaults.w = file.n / 2 + 1;
  file.buckets = BucketTable(defaults);
  for (const auto& [name, props_spec] : spec.buckets) {
    if (name.empty()) return Status::InvalidArgument("--bucket needs a name: NAME:PROPS");
    if (file.buckets.named().count(name) != 0) {
      return Status::InvalidArgument("bucket " + name + " given twice");
    }
    Result<BucketProps> props = ParseBucketProps(props_spec, defaults);
    if (!props.ok())
      return Status::InvalidArgument("--bucket " + name + ": " + props.status().message());
    if (props->n > nodes) {
      return Status::InvalidArgument("--bucket " + name + ": n exceeds the number of nodes");
    }
    file.buckets.Set(name, *props);
  }
  return file;
}

Result<pid_t> ReadPidFile(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return Status::NotFound("no pid file");
  return static_cast<pid_t>(pid);
}

}  // namespace

std::string LastLine(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

bool PingNode(const std::string& address, std::chrono::milliseconds timeout,
              const ClientOptions::Tls& tls) {
  ClientOptions options;
  options.tls = tls;
  options.nodes = {address};
  options.timeout_ms = static_cast<uint32_t>(std::max<int64_t>(1, timeout.count()));
  Result<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) return false;
  return (*client)->Ping().ok();
}

Result<NodeView> QueryNodeStatus(const std::string& address, std::chrono::milliseconds timeout,
                                 const ClientOptions::Tls& tls) {
  ClientOptions options;
  options.tls = tls;
  options.nodes = {address};
  options.timeout_ms = static_cast<uint32_t>(std::max<int64_t>(1, timeout.count()));
  Result<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) return client.status();
  return (*client)->StatusOf(address);
}

LocalCluster::LocalCluster(std::string dir, std::string node_binary, ClusterFile file)
    : dir_(std::move(dir)), node_binary_(std::move(node_binary)), file_(std::move(file)) {
  std::ifstream in(NodeFlagsPath());
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) node_flags_[line.substr(0, eq)].push_back(line.substr(eq + 1));
  }
}

Status LocalCluster::SetNodeFlags(const NodeFlags& flags) {
  if (flags.empty()) return Status::OK();
  for (const auto& [name, values] : flags) node_flags_[name] = values;
  std::ofstream out(NodeFlagsPath(), std::ios::trunc);
  for (const auto& [name, values] : node_flags_) {
    for (const std::string& value : values) out << name << "=" << value << "\n";
  }
  if (!out) return Status::IOError("cannot write " + NodeFlagsPath());
  return Status::OK();
}

Result<LocalCluster> LocalCluster::Open(const std::string& dir, std::string node_binary) {
  std::error_code ec;
  const std::string abs = fs::weakly_canonical(fs::absolute(dir, ec), ec).string();
  if (ec) return Status::IOError("bad directory " + dir + ": " + ec.message());
  const std::string path = abs + "/cluster.toml";
  if (!fs::exists(path, ec)) return Status::NotFound("no cluster in " + dir + " (no cluster.toml)");
  Result<ClusterFile> file = ReadClusterFile(path);
  if (!file.ok()) return file.status();
  return LocalCluster(abs, std::move(node_binary), std::move(file).value());
}

Result<LocalCluster> LocalCluster::OpenOrCreate(const std::string& dir,
                                                const LocalClusterSpec& spec,
                                                std::string node_binary, bool* created) {
  Result<LocalCluster> existing = Open(dir, node_binary);
  if (existing.ok()) {
    *created = false;
    RINGKV_RETURN_IF_ERROR(CheckSpec(dir, existing->file(), spec));
    return existing;
  }
  if (!existing.status().IsNotFound()) return existing.status();
  *created = true;
  Result<ClusterFile> file = NewClusterFile(spec);
  if (!file.ok()) return file.status();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
  const std::string abs = fs::canonical(dir, ec).string();
  if (ec) return Status::IOError("bad directory " + dir + ": " + ec.message());
  RINGKV_RETURN_IF_ERROR(WriteClusterFile(abs + "/cluster.toml", *file));
  return LocalCluster(abs, std::move(node_binary), std::move(file).value());
}

Result<ClusterMember> LocalCluster::Member(const std::string& name) const {
  for (const ClusterMember& m : file_.members) {
    if (m.id == name || m.id == "n" + name) return m;
  }
  return Status::NotFound("no node " + name + " in the cluster in " + dir_);
}

pid_t LocalCluster::LivePid(const ClusterMember& member) const {
  Result<pid_t> pid = ReadPidFile(NodeDir(member) + "/pid");
  if (!pid.ok()) return 0;
  ReapIfChild(*pid);
  return GetProcessState(*pid) == ProcessState::kGone ? 0 : *pid;
}

pid_t LocalCluster::RunningPid(const ClusterMember& member) const {
  const pid_t pid = LivePid(member);
  if (pid == 0) return 0;
  // Ours only if its command line names this cluster file and this member.
  const std::vector<std::string> args = GetProcessArgs(pid);
  const auto has = [&args](const std::string& flag, const std::string& value) {
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == flag && args[i + 1] == value) return true;
    }
    return false;
  };
  if (!has("--cluster", ClusterPath()) || !has("--node", member.id)) return 0;
  return pid;
}

LocalNodeStatus LocalCluster::Describe(const ClusterMember& member,
                                       std::chrono::milliseconds ping_timeout) const {
  LocalNodeStatus status{member.id, member.address, RunningPid(member), "down", "", 0, {}};
  {
    std::ifstream in(NodeDir(member) + "/command");
    std::string arg;
    bool next_is_http = false;
    while (std::getline(in, arg)) {
      if (next_is_http) status.http = arg;
      next_is_http = arg == "--http";
      if (arg.rfind("--http=", 0) == 0) status.http = arg.substr(7);
    }
  }
  if (status.pid == 0) return status;
  if (GetProcessState(status.pid) == ProcessState::kStopped) {
    status.state = "paused";
  } else if (Result<NodeView> view = QueryNodeStatus(member.address, ping_timeout, ClientTls());
             view.ok()) {
    // A status answer proves the node serves as well as a ping does.
    status.state = "up";
    for (const HintBacklog& h : view->hints) status.hints_pending += h.count;
    for (const PeerView& p : view->peers) {
      if (!p.up) status.peers_down.push_back(p.node);
    }
  }
  return status;
}

std::vector<std::string> LocalCluster::Command(const ClusterMember& member, bool sync) const {
  std::vector<std::string> command = {node_binary_,
                                      "--cluster",
                                      ClusterPath(),
                                      "--node",
                                      member.id,
                                      "--data",
                                      NodeDir(member) + "/data",
                                      "--cluster-secret-file",
                                      SecretPath()};
  if (const std::string http = LocalHttpAddress(member.address); !http.empty()) {
    command.push_back("--http");
    command.push_back(http);
  }
  if (sync) command.push_back("--sync");
  if (tls()) {
    const std::string base = TlsDir() + "/" + member.id;
    command.insert(command.end(), {"--tls-cert", base + ".crt", "--tls-key", base + ".key",
                                   "--tls-ca", TlsDir() + "/ca.crt"});
  }
  for (const auto& [name, values] : node_flags_) {
    for (const std::string& value : values) command.push_back(name + "=" + value);
  }
  return command;
}

Result<pid_t> LocalCluster::Spawn(const ClusterMember& member,
                                  const std::vector<std::string>& command) {
  std::error_code ec;
  fs::create_directories(NodeDir(member) + "/data", ec);
  if (ec) return Status::IOError("cannot create " + NodeDir(member) + ": " + ec.message());
  // One secret per cluster, made when its first node starts and kept.
  if (!fs::exists(SecretPath(), ec)) RINGKV_RETURN_IF_ERROR(CreateClusterSecret(SecretPath()));
  {
    std::ofstream out(NodeDir(member) + "/command", std::ios::trunc);
    for (const std::string& arg : command) out << arg << "\n";
    if (!out) return Status::IOError("cannot write " + NodeDir(member) + "/command");
  }
  Result<pid_t> pid = SpawnDetached(command, LogPath(member));
  if (!pid.ok()) return pid.status();
  std::ofstream out(NodeDir(member) + "/pid", std::ios::trunc);
  out << *pid << "\n";
  if (!out) return Status::IOError("cannot write " + NodeDir(member) + "/pid");
  return pid;
}

Result<ClusterMember> LocalCluster::AddMember() {
  uint32_t last = 0;
  for (const ClusterMember& m : file_.members) {
    if (m.id.size() > 1 && m.id[0] == 'n') last = std::max<uint32_t>(last, std::stoul(m.id.substr(1)));
  }
  Result<HostPort> first = ParseHostPort(file_.members.front().address);
  if (!first.ok()) return first.status();
  // The cluster's layout, read back from n1's address.
  const bool distinct = first->host == "127.0.0.2";
  const uint32_t base_port = first->port - 1;
  ClusterMember member{"n" + std::to_string(last + 1),
                       LocalNodeAddress(base_port, last + 1, distinct)};
  ClusterFile next = file_;
  next.members.push_back(member);
  RINGKV_RETURN_IF_ERROR(CheckPortsOutsideEphemeralRange(next));
  RINGKV_RETURN_IF_ERROR(WriteClusterFile(ClusterPath(), next));
  file_ = std::move(next);
  if (tls()) RINGKV_RETURN_IF_ERROR(EnableTls());
  return member;
}

Result<pid_t> LocalCluster::StartJoiningNode(const ClusterMember& member, const std::string& seed) {
  if (pid_t pid = RunningPid(member); pid != 0) return pid;
  std::vector<std::string> command = Command(member, false);
  command.push_back("--join");
  command.push_back(seed);
  return Spawn(member, command);
}

Status LocalCluster::RemoveMember(const std::string& id) {
  ClusterFile next = file_;
  std::erase_if(next.members, [&id](const ClusterMember& m) { return m.id == id; });
  if (next.members.size() == file_.members.size()) return Status::NotFound(id + " is not a member");
  RINGKV_RETURN_IF_ERROR(WriteClusterFile(ClusterPath(), next));
  file_ = std::move(next);
  return Status::OK();
}

Result<pid_t> LocalCluster::StartNode(const ClusterMember& member, bool sync) {
  if (pid_t pid = RunningPid(member); pid != 0) return pid;
  if (tls()) RINGKV_RETURN_IF_ERROR(EnableTls());
  return Spawn(member, Command(member, sync));
}

bool LocalCluster::tls() const {
  std::error_code ec;
  return fs::exists(TlsDir() + "/ca.crt", ec);
}

ClientOptions::Tls LocalCluster::ClientTls() const {
  if (!tls()) return {};
  return {TlsDir() + "/ca.crt", "", ""};
}

Status LocalCluster::EnableTls() {
  std::error_code ec;
  fs::create_directories(TlsDir(), ec);
  if (ec) return Status::IOError("cannot create " + TlsDir() + ": " + ec.message());
  if (!tls()) {
    Result<PemPair> ca = NewCertificateAuthority("ringkv cluster CA " + dir_, 3650);
    if (!ca.ok()) return ca.status();
    RINGKV_RETURN_IF_ERROR(WriteCertificateAuthority(TlsDir(), *ca));
  }
  Result<PemPair> ca = ReadCertificateAuthority(TlsDir());
  if (!ca.ok()) return ca.status();
  for (const ClusterMember& m : file_.members) {
    if (fs::exists(TlsDir() + "/" + m.id + ".crt", ec)) continue;
    CertificateRequest request;
    request.name = m.id;
    Result<HostPort> at = ParseHostPort(m.address);
    if (at.ok()) request.hosts.push_back(at->host);
    Result<PemPair> issued = IssueCertificate(*ca, request);
    if (!issued.ok()) return issued.status();
    RINGKV_RETURN_IF_ERROR(WriteIssued(TlsDir(), m.id, *issued));
  }
  return Status::OK();
}

Result<pid_t> LocalCluster::RestartNode(const ClusterMember& member,
                                        std::chrono::milliseconds grace) {
  RINGKV_RETURN_IF_ERROR(StopNode(member, grace));
  std::vector<std::string> command;
  {
    std::ifstream in(NodeDir(member) + "/command");
    std::string arg;
    while (std::getline(in, arg)) command.push_back(arg);
  }
  if (command.empty()) command = Command(member, false);
  // A command saved before peers authenticated has no --cluster-secret-file:
  // ringkv-node then finds the secret beside the cluster file by itself.
  return Spawn(member, command);
}

Status LocalCluster::StopNode(const ClusterMember& member, std::chrono::milliseconds grace) {
  const pid_t pid = RunningPid(member);
  if (pid != 0 && !TerminateProcess(pid, grace)) {
    return Status::Internal(member.id + " (pid " + std::to_string(pid) + ") did not exit");
  }
  std::error_code ec;
  fs::remove(NodeDir(member) + "/pid", ec);
  return Status::OK();
}

Status LocalCluster::Signal(const ClusterMember& member, int signal) {
  const pid_t pid = RunningPid(member);
  if (pid == 0) return Status::Unavailable(member.id + " is not running");
  if (::kill(pid, signal) != 0) {
    return Status::Internal("cannot signal " + member.id + ": " + std::strerror(errno));
  }
  return Status::OK();
}

namespace {

// Whether `m` believes every other node in `started` up: right after a
// start, a node whose first connect to a peer came before that peer listened
// counts it down until it hears from it, and a write needing that peer would
// fail. Nodes not being started may legitimately be down.
bool SeesUp(const ClusterMember& m, const std::vector<ClusterMember>& started,
            std::chrono::milliseconds timeout, const ClientOptions::Tls& tls) {
  Result<NodeView> view = QueryNodeStatus(m.address, timeout, tls);
  if (!view.ok()) return false;
  for (const PeerView& p : view->peers) {
    if (p.up) continue;
    for (const ClusterMember& other : started) {
      if (other.id == p.node) return false;
    }
  }
  return true;
}

}  // namespace

Status LocalCluster::WaitServing(const std::vector<ClusterMember>& members,
                                 std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Every sweep checks every member again, and two sweeps in a row must
  // pass: a peer a node never reached yet counts as up, so a node that
  // passed before the last of its peers listened can count that peer down a
  // moment later, when its first connect is refused. The second sweep starts
  // after every member answered a ping, so such a refusal has happened.
  int passed = 0;
  for (;;) {
    std::vector<ClusterMember> still;
    for (const ClusterMember& m : members) {
      // Gone, not "not ours": the command line of a node started through a
      // wrapper changes when the wrapper execs the node, and is not read
      // reliably meanwhile.
      if (LivePid(m) == 0) {
        const std::string last = LastLine(LogPath(m));
        return Status::Unavailable(m.id + " exited during start" +
                                   (last.empty() ? "" : ": " + last) + " (see " + LogPath(m) + ")");
      }
      if (!PingNode(m.address, std::chrono::milliseconds(500), ClientTls()) ||
          !SeesUp(m, members, std::chrono::milliseconds(500), ClientTls())) {
        still.push_back(m);
      }
    }
    passed = still.empty() ? passed + 1 : 0;
    if (passed == 2) return Status::OK();
    if (!still.empty() && std::chrono::steady_clock::now() >= deadline) {
      std::string names;
      for (const ClusterMember& m : still) names += (names.empty() ? "" : ", ") + m.id;
      return Status::Timeout("not serving after " + std::to_string(timeout.count()) +
                             " ms: " + names);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace ringkv
