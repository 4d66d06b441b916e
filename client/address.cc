#include "client/address.h"

#include "common/host_port.h"

namespace ringkv {

Result<std::vector<std::string>> SplitAddressList(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    size_t start = 0;
    while (start <= item.size()) {
      size_t comma = item.find(',', start);
      if (comma == std::string::npos) comma = item.size();
      std::string one = item.substr(start, comma - start);
      if (!one.empty()) {
        Result<HostPort> parsed = ParseHostPort(one);
        if (!parsed.ok()) return parsed.status();
        out.push_back(std::move(one));
      }
      start = comma + 1;
    }
  }
  return out;
}

}  // namespace ringkv
