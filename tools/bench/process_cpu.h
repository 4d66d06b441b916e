// ProcessCpu: the CPU time other processes (the servers under test) used,
// read from /proc/PID/stat, so that ringkv-bench can report the servers'
// CPU per operation over exactly its measured interval (--server-pids):
// throughput on a shared machine moves with everyone else's load, CPU per
// operation much less.
#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"

namespace ringkv::bench {

struct CpuSeconds {
  double user = 0, sys = 0;
  double total() const { return user + sys; }
};

// utime and stime (fields 14 and 15) of one /proc/PID/stat line, every
// thread of the process included. The command name (field 2) may hold
// spaces and parentheses, so fields are counted from its last ')'.
// Corruption on a line that does not have them.
Result<CpuSeconds> ParseProcStat(std::string_view line, long ticks_per_second);

// "PID[,PID...]" as --server-pids takes it: positive decimal numbers, no
// repeats. InvalidArgument otherwise.
Result<std::vector<int>> ParsePidList(std::string_view text);

// The sum over `pids`. NotFound when one of them is gone (its time would be
// missing from the sum).
Result<CpuSeconds> ReadProcessCpu(const std::vector<int>& pids);

}  // namespace ringkv::bench
