#include "tests/chaos/cluster.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/hash.h"
#include "common/host_port.h"
#include "proto/messages.h"
#include "tests/integration/harness.h"
#include "tools/process.h"

namespace ringkv::chaos {
namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kStartTimeout{60'000};
constexpr milliseconds kRestartTimeout{30'000};
constexpr milliseconds kSignalTimeout{10'000};
constexpr milliseconds kStopGrace{3'000};

// Stops the nodes of clusters whose harness died without cleaning up
// (SIGKILL, a crash): their directory names an owner PID that is gone. The
// directory stays, for a look; its owner file goes, so it is not visited
// again.
void StopOrphanClusters() {
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(fs::temp_directory_path(), ec)) {
    if (entry.path().filename().string().rfind("ringkv-chaos-", 0) != 0) continue;
    const std::string owner_path = (entry.path() / "owner").string();
    std::ifstream owner(owner_path);
    pid_t pid = 0;
    if (!(owner >> pid) || pid <= 0 || GetProcessState(pid) != ProcessState::kGone) continue;
    Result<LocalCluster> orphan = LocalCluster::Open((entry.path() / "cluster").string(), "");
    if (orphan.ok()) {
      for (const ClusterMember& m : orphan->file().members) (void)orphan->StopNode(m, kStopGrace);
    }
    fs::remove(owner_path, ec);
  }
}

}  // namespace

Result<std::string> FindNodeBinary(const std::string& flag) {
  std::vector<fs::path> candidates;
  if (!flag.empty()) {
    candidates.push_back(flag);
  } else {
    if (const char* bin = std::getenv("RINGKV_BIN_DIR"); bin != nullptr && *bin != '\0') {
      candidates.push_back(fs::path(bin) / "node" / "ringkv-node");
    }
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) candidates.push_back(self.parent_path() / ".." / ".." / "node" / "ringkv-node");
  }
  for (const fs::path& c : candidates) {
    std::error_code ec;
    if (::access(c.c_str(), X_OK) == 0) return fs::weakly_canonical(c, ec).string();
  }
  return Status::NotFound(flag.empty() ? "cannot find ringkv-node (set RINGKV_BIN_DIR or pass "
                                         "--node-binary)"
                                       : "--node-binary " + flag + " is not executable");
}

ChaosCluster::ChaosCluster(std::string temp_root, LocalCluster cluster, Ring ring)
    : temp_root_(std::move(temp_root)), cluster_(std::move(cluster)), ring_(std::move(ring)) {}

Result<std::unique_ptr<ChaosCluster>> ChaosCluster::Start(const ChaosClusterOptions& options) {
  StopOrphanClusters();
  std::string root = (fs::temp_directory_path() / "ringkv-chaos-XXXXXX").string();
  if (::mkdtemp(root.data()) == nullptr) {
    return Status::IOError(std::string("mkdtemp: ") + std::strerror(errno));
  }
  {
    std::ofstream owner(root + "/owner");
    owner << ::getpid() << "\n";
  }
  Result<uint32_t> base = testing::PickBasePort(options.nodes, options.distinct_hosts);
  if (!base.ok()) {
    std::error_code ec;
    fs::remove_all(root, ec);
    return base.status();
  }
  LocalClusterSpec spec;
  spec.nodes = static_cast<uint32_t>(options.nodes);
  spec.base_port = *base;
  spec.n = options.n;
  spec.partitions = options.partitions;
  spec.buckets = options.buckets;
  spec.distinct_hosts = options.distinct_hosts;
  bool created = false;
  Result<LocalCluster> local =
      LocalCluster::OpenOrCreate(root + "/cluster", spec, options.node_binary, &created);
  if (!local.ok()) {
    std::error_code ec;
    fs::remove_all(root, ec);
    return local.status();
  }
  std::vector<NodeId> ids;
  for (const ClusterMember& m : local->file().members) ids.push_back(m.id);
  Result<Ring> ring = Ring::Create(ids, local->file().partitions, local->file().n);
  if (!ring.ok()) return ring.status();
  // From here on the destructor cleans up whatever was started.
  std::unique_ptr<ChaosCluster> cluster(
      new ChaosCluster(root, std::move(local).value(), std::move(ring).value()));
  NodeFlags node_flags;
  for (const auto& [name, value] : options.node_flags) node_flags[name] = {value};
  RINGKV_RETURN_IF_ERROR(cluster->cluster_.SetNodeFlags(node_flags));
  for (const ClusterMember& m : cluster->cluster_.file().members) {
    Result<pid_t> pid = cluster->cluster_.StartNode(m, /*sync=*/false);
    if (!pid.ok()) return pid.status();
    cluster->pids_.push_back(*pid);
  }
  Status serving = cluster->cluster_.WaitServing(cluster->cluster_.file().members, kStartTimeout);
  if (!serving.ok()) return Status::Unavailable(serving.message() + "\n" + cluster->LogTails());
  return cluster;
}

ChaosCluster::~ChaosCluster() {
  for (const ClusterMember& m : cluster_.file().members) (void)cluster_.StopNode(m, kStopGrace);
  for (pid_t pid : pids_) {
    // Only a process that still names this cluster's directory is ours.
    bool ours = false;
    for (const std::string& arg : GetProcessArgs(pid)) {
      ours = ours || arg.find(cluster_.dir()) != std::string::npos;
    }
    if (ours) {
      ::kill(pid, SIGKILL);
      WaitGone(pid, kSignalTimeout);
    }
  }
  if (!keep_) {
    std::error_code ec;
    fs::remove_all(temp_root_, ec);
  }
}

const ClusterMember& ChaosCluster::Member(int node) const {
  return cluster_.file().members.at(static_cast<size_t>(node - 1));
}

const std::string& ChaosCluster::Address(int node) const { return Member(node).address; }

Endpoint ChaosCluster::EndpointOf(int node) const {
  // Member addresses were checked when the cluster file was read.
  Result<HostPort> address = ParseHostPort(Address(node));
  return address.ok() ? Endpoint{address->host, address->port} : Endpoint{};
}

const BucketProps& ChaosCluster::Props(const std::string& bucket) const {
  return cluster_.file().buckets.Get(bucket);
}

uint32_t ChaosCluster::Partition(const std::string& bucket, const std::string& key) const {
  return ring_.PartitionOf(KeyHash(bucket, key));
}

std::vector<int> ChaosCluster::Primaries(const std::string& bucket, const std::string& key) const {
  std::vector<int> out;
  for (const NodeId& id : ring_.PrimariesFor(KeyHash(bucket, key), Props(bucket).n)) {
    out.push_back(std::atoi(id.c_str() + 1));  // "n3" -> 3
  }
  return out;
}

bool ChaosCluster::Running(int node) const { return cluster_.RunningPid(Member(node)) != 0; }

bool ChaosCluster::Paused(int node) const {
  const pid_t pid = cluster_.RunningPid(Member(node));
  return pid != 0 && GetProcessState(pid) == ProcessState::kStopped;
}

Status ChaosCluster::Kill(int node) {
  const pid_t pid = cluster_.RunningPid(Member(node));
  RINGKV_RETURN_IF_ERROR(cluster_.Signal(Member(node), SIGKILL));
  if (!WaitGone(pid, kSignalTimeout)) return Status::Internal(Member(node).id + " did not die");
  return Status::OK();
}

Status ChaosCluster::Pause(int node) {
  const pid_t pid = cluster_.RunningPid(Member(node));
  RINGKV_RETURN_IF_ERROR(cluster_.Signal(Member(node), SIGSTOP));
  if (!WaitStopped(pid, kSignalTimeout)) return Status::Internal(Member(node).id + " did not stop");
  return Status::OK();
}

Status ChaosCluster::Resume(int node) {
  RINGKV_RETURN_IF_ERROR(cluster_.Signal(Member(node), SIGCONT));
  const auto deadline = std::chrono::steady_clock::now() + kSignalTimeout;
  while (Paused(node)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Internal(Member(node).id + " did not continue");
    }
    ::usleep(5'000);
  }
  return Status::OK();
}

Status ChaosCluster::Wipe(int node) {
  if (Running(node)) return Status::InvalidArgument(Member(node).id + " is running");
  std::error_code ec;
  fs::remove_all(cluster_.NodeDir(Member(node)) + "/data", ec);
  if (ec) return Status::IOError("cannot wipe " + Member(node).id + ": " + ec.message());
  return Status::OK();
}

Status ChaosCluster::Restart(int node) {
  Result<pid_t> pid = cluster_.StartNode(Member(node), /*sync=*/false);
  if (!pid.ok()) return pid.status();
  pids_.push_back(*pid);
  return cluster_.WaitServing({Member(node)}, kRestartTimeout);
}

KeyState ChaosCluster::ReadKey(const std::string& bucket, const std::string& key,
                               milliseconds timeout) {
  KeyState state;
  state.bucket = bucket;
  state.key = key;
  state.lww = Props(bucket).resolver == "lww";
  for (int node : Primaries(bucket, key)) {
    ReplicaRead read;
    read.node = node;
    std::unique_ptr<NodeConnection>& conn = reads_[node];
    if (conn == nullptr) conn = std::make_unique<NodeConnection>(Address(node));
    Message request;
    request.request_id = next_request_id_++;
    request.timeout_ms = static_cast<uint32_t>(timeout.count());
    request.body = ReplicaGetRequest{bucket, key};
    Result<Message> reply = conn->Call(request, std::chrono::steady_clock::now() + timeout);
    if (reply.ok()) {
      if (auto* got = std::get_if<ReplicaGetReply>(&reply->body); got && got->status.ok()) {
        read.answered = true;
        read.found = got->found;
        read.object = std::move(got->object);
      }
    }
    state.replicas.push_back(std::move(read));
  }
  return state;
}

std::optional<uint64_t> ChaosCluster::HintsPending(milliseconds timeout) const {
  uint64_t total = 0;
  for (const ClusterMember& m : cluster_.file().members) {
    Result<NodeView> status = QueryNodeStatus(m.address, timeout);
    if (!status.ok()) return std::nullopt;
    for (const HintBacklog& h : status->hints) total += h.count;
  }
  return total;
}

Status ChaosCluster::WaitAllServing(milliseconds timeout) const {
  return cluster_.WaitServing(cluster_.file().members, timeout);
}

std::string ChaosCluster::LogTails() const {
  std::string out;
  for (const ClusterMember& m : cluster_.file().members) {
    out += m.id + " (" + cluster_.LogPath(m) + "): " + LastLine(cluster_.LogPath(m)) + "\n";
  }
  return out;
}

}  // namespace ringkv::chaos
