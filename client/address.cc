#include "client/address.h"

#include <charconv>

namespace ringkv {

Result<HostPort> ParseAddress(std::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == address.size()) {
    return Status::InvalidArgument("bad address '" + std::string(address) +
                                   "': expected HOST:PORT");
  }
  HostPort out;
  std::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  out.host = std::string(host);
  std::string_view port = address.substr(colon + 1);
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
    return Status::InvalidArgument("bad port in address '" + std::string(address) + "'");
  }
  out.port = static_cast<uint16_t>(value);
  return out;
}

Result<std::vector<std::string>> SplitAddressList(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    size_t start = 0;
    while (start <= item.size()) {
      size_t comma = item.find(',', start);
      if (comma == std::string::npos) comma = item.size();
      std::string one = item.substr(start, comma - start);
      if (!one.empty()) {
        Result<HostPort> parsed = ParseAddress(one);
        if (!parsed.ok()) return parsed.status();
        out.push_back(std::move(one));
      }
      start = comma + 1;
    }
  }
  return out;
}

}  // namespace ringkv
