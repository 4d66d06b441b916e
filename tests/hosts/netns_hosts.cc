#include "tests/hosts/netns_hosts.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ringkv::testing {
namespace {

namespace fs = std::filesystem;

Status Ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/sbin/ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = RunCommand(argv, std::chrono::seconds(10));
  if (r.exit_code != 0) return Status::Internal(r.Describe());
  return Status::OK();
}

}  // namespace

Status NetnsHosts::Available() {
  if (::geteuid() != 0) return Status::Unavailable("network namespaces need root");
  if (!fs::exists("/usr/sbin/ip")) return Status::Unavailable("no /usr/sbin/ip (iproute2)");
  const std::string probe = "rkvprobe" + std::to_string(::getpid());
  if (Status st = Ip({"netns", "add", probe}); !st.ok()) {
    return Status::Unavailable("cannot create a network namespace: " + st.message());
  }
  return Ip({"netns", "del", probe});
}

NetnsHosts::NetnsHosts() : prefix_("rkv" + std::to_string(::getpid())) {
  switch_ns_ = prefix_ + "-sw";
  Ip({"netns", "add", switch_ns_});
  Ip({"-n", switch_ns_, "link", "add", "br0", "type", "bridge"});
  Ip({"-n", switch_ns_, "link", "set", "br0", "up"});
}

NetnsHosts::~NetnsHosts() {
  for (pid_t pid : pids_) ::kill(pid, SIGKILL);
  for (pid_t pid : pids_) ::waitpid(pid, nullptr, 0);
  for (const Host& h : hosts_) {
    Ip({"netns", "del", h.ns});
    std::error_code ec;
    fs::remove_all("/etc/netns/" + h.ns, ec);
  }
  Ip({"netns", "del", switch_ns_});
}

Result<int> NetnsHosts::AddHost(const std::string& name) {
  const int index = static_cast<int>(hosts_.size());
  if (index >= 250) return Status::InvalidArgument("at most 250 hosts");
  Host h;
  h.name = name;
  h.ns = prefix_ + "-h" + std::to_string(index);
  h.address = "10.77.0." + std::to_string(index + 1);
  // Interface names have at most 15 characters.
  const std::string tag = std::to_string(::getpid() % 100000) + "x" + std::to_string(index);
  h.switch_side = "s" + tag;
  const std::string host_side = "h" + tag;
  RINGKV_RETURN_IF_ERROR(Ip({"netns", "add", h.ns}));
  hosts_.push_back(h);  // removed by the destructor from here on
  RINGKV_RETURN_IF_ERROR(Ip({"-n", switch_ns_, "link", "add", h.switch_side, "type", "veth",
                             "peer", "name", host_side, "netns", h.ns}));
  RINGKV_RETURN_IF_ERROR(Ip({"-n", switch_ns_, "link", "set", h.switch_side, "master", "br0"}));
  RINGKV_RETURN_IF_ERROR(Ip({"-n", switch_ns_, "link", "set", h.switch_side, "up"}));
  RINGKV_RETURN_IF_ERROR(Ip({"-n", h.ns, "addr", "add", h.address + "/24", "dev", host_side}));
  RINGKV_RETURN_IF_ERROR(Ip({"-n", h.ns, "link", "set", host_side, "up"}));
  RINGKV_RETURN_IF_ERROR(Ip({"-n", h.ns, "link", "set", "lo", "up"}));
  RINGKV_RETURN_IF_ERROR(WriteHostsFiles());
  return index;
}

Status NetnsHosts::WriteHostsFiles() const {
  for (const Host& h : hosts_) {
    const std::string dir = "/etc/netns/" + h.ns;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
    std::ofstream out(dir + "/hosts");
    out << "127.0.0.1 localhost\n";
    for (const Host& other : hosts_) out << other.address << " " << other.name << "\n";
    if (!out) return Status::IOError("cannot write " + dir + "/hosts");
  }
  return Status::OK();
}

Result<pid_t> NetnsHosts::Spawn(int host, const std::vector<std::string>& argv,
                                const std::string& log) {
  std::vector<std::string> full = {"/usr/sbin/ip", "netns", "exec", hosts_[host].ns};
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (std::string& a : full) args.push_back(a.data());
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return Status::Internal("fork failed");
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  pids_.push_back(pid);
  return pid;
}

CommandResult NetnsHosts::Run(int host, const std::vector<std::string>& argv,
                              std::chrono::milliseconds timeout) {
  std::vector<std::string> full = {"/usr/sbin/ip", "netns", "exec", hosts_[host].ns};
  full.insert(full.end(), argv.begin(), argv.end());
  return RunCommand(full, timeout);
}

Status NetnsHosts::SetLink(int host, bool up) {
  return Ip({"-n", switch_ns_, "link", "set", hosts_[host].switch_side, up ? "up" : "down"});
}

}  // namespace ringkv::testing
