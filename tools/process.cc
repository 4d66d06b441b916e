#include "tools/process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace ringkv {

ProcessState GetProcessState(pid_t pid) {
  if (pid <= 0) return ProcessState::kGone;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!in || !std::getline(in, stat)) return ProcessState::kGone;
  // "pid (comm) S ...": comm may hold spaces and parentheses, so the state
  // is the first field after the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return ProcessState::kGone;
  switch (stat[close + 2]) {
    case 'Z':
    case 'X':
      return ProcessState::kGone;
    case 'T':
    case 't':
      return ProcessState::kStopped;
    default:
      return ProcessState::kRunning;
  }
}

std::vector<std::string> GetProcessArgs(pid_t pid) {
  std::vector<std::string> args;
  if (pid <= 0) return args;
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string arg;
  while (std::getline(in, arg, '\0')) args.push_back(arg);
  return args;
}

Result<pid_t> SpawnDetached(const std::vector<std::string>& argv, const std::string& log_path) {
  if (argv.empty()) return Status::InvalidArgument("empty command");
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  // The child reports a failed exec through this close-on-exec pipe; a
  // successful exec closes it with nothing written.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0)
    return Status::IOError(std::string("pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(report[0]);
    ::close(report[1]);
    return Status::IOError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(report[0]);
    ::setsid();
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGCHLD, SIGPIPE, SIGHUP}) ::signal(sig, SIG_DFL);
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) {
      const int err = errno;
      (void)!::write(report[1], &err, sizeof(err));
      ::_exit(127);
    }
    ::close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
    ::execv(cargv[0], cargv.data());
    const int err = errno;
    (void)!::write(report[1], &err, sizeof(err));
    ::_exit(127);
  }
  ::close(report[1]);
  int err = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &err, sizeof(err));
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n > 0) {
    ::waitpid(pid, nullptr, 0);
    return Status::IOError("cannot start " + argv[0] + ": " + std::strerror(err));
  }
  return pid;
}

void ReapIfChild(pid_t pid) {
  if (pid > 0) ::waitpid(pid, nullptr, WNOHANG);
}

bool WaitGone(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    ReapIfChild(pid);
    if (GetProcessState(pid) == ProcessState::kGone) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool WaitStopped(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const ProcessState state = GetProcessState(pid);
    if (state == ProcessState::kStopped) return true;
    if (state == ProcessState::kGone || std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool TerminateProcess(pid_t pid, std::chrono::milliseconds grace) {
  if (GetProcessState(pid) == ProcessState::kGone) return true;
  ::kill(pid, SIGTERM);
  ::kill(pid, SIGCONT);
  if (WaitGone(pid, grace)) return true;
  ::kill(pid, SIGKILL);
  return WaitGone(pid, std::chrono::seconds(5));
}

}  // namespace ringkv
