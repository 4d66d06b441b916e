// Local processes for ringkv-cluster and the integration tests: start a
// detached child, look at a PID's state in /proc, signal it and wait for it
// to go, each wait bounded by a deadline. Linux only. Functions are
// thread-compatible (no shared state).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace ringkv {

// What /proc says about a PID.
enum class ProcessState {
  kGone,     // no such process, or a zombie waiting to be reaped
  kRunning,  // running or sleeping
  kStopped,  // stopped by a signal (SIGSTOP): state T or t
};

ProcessState GetProcessState(pid_t pid);
// The process's argv from /proc/PID/cmdline; empty when gone.
std::vector<std::string> GetProcessArgs(pid_t pid);

// Starts argv[0] (a path) with `argv` in a new session (so a Ctrl-C on the
// caller's terminal does not reach it), stdin from /dev/null and stdout and
// stderr appended to `log_path`. Returns the child's PID once exec has
// succeeded; IOError with the reason when it could not start.
Result<pid_t> SpawnDetached(const std::vector<std::string>& argv, const std::string& log_path);

// Reaps `pid` if it is our child and has exited (never blocks).
void ReapIfChild(pid_t pid);

// Polls until `pid` is gone or the timeout passes; true when gone.
bool WaitGone(pid_t pid, std::chrono::milliseconds timeout);

// Polls until `pid` is stopped (SIGSTOP took effect) or the timeout passes.
bool WaitStopped(pid_t pid, std::chrono::milliseconds timeout);

// SIGTERM (with SIGCONT, so a paused process sees it), then SIGKILL if it
// has not exited within `grace`. True when the process is gone at the end.
bool TerminateProcess(pid_t pid, std::chrono::milliseconds grace);

}  // namespace ringkv
