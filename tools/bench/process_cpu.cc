#include "tools/bench/process_cpu.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <string>

namespace ringkv::bench {

Result<CpuSeconds> ParseProcStat(std::string_view line, long ticks_per_second) {
  const size_t close = line.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) {
    return Status::Corruption("not a /proc/PID/stat line");
  }
  // After the name: state (field 3) ... utime (14), stime (15).
  std::string_view rest = line.substr(close + 1);
  unsigned long long values[2] = {0, 0};
  int field = 2;
  size_t pos = 0;
  while (field < 15) {
    while (pos < rest.size() && rest[pos] == ' ') ++pos;
    if (pos >= rest.size()) return Status::Corruption("/proc/PID/stat line too short");
    const size_t end = std::min(rest.find(' ', pos), rest.size());
    ++field;
    if (field == 14 || field == 15) {
      const std::string_view text = rest.substr(pos, end - pos);
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), values[field - 14]);
      if (ec != std::errc() || ptr != text.data() + text.size()) {
        return Status::Corruption("bad CPU time in /proc/PID/stat");
      }
    }
    pos = end;
  }
  const double tick = 1.0 / static_cast<double>(ticks_per_second);
  return CpuSeconds{static_cast<double>(values[0]) * tick, static_cast<double>(values[1]) * tick};
}

Result<std::vector<int>> ParsePidList(std::string_view text) {
  std::vector<int> pids;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string_view item = text.substr(pos, comma - pos);
    int pid = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), pid);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || pid <= 0) {
      return Status::InvalidArgument("'" + std::string(item) + "' is not a process id");
    }
    if (std::find(pids.begin(), pids.end(), pid) != pids.end()) {
      return Status::InvalidArgument("process " + std::to_string(pid) + " is listed twice");
    }
    pids.push_back(pid);
    pos = comma + 1;
  }
  return pids;
}

Result<CpuSeconds> ReadProcessCpu(const std::vector<int>& pids) {
  static const long ticks = ::sysconf(_SC_CLK_TCK);
  CpuSeconds sum;
  for (int pid : pids) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!in || !std::getline(in, line)) {
      return Status::NotFound("process " + std::to_string(pid) + " is gone");
    }
    Result<CpuSeconds> one = ParseProcStat(line, ticks);
    if (!one.ok()) return one.status();
    sum.user += one->user;
    sum.sys += one->sys;
  }
  return sum;
}

}  // namespace ringkv::bench
