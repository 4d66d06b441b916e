// Node addresses as clients write them: "host:port" (IPv6 hosts in
// brackets, "[::1]:7101"). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ringkv {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

// InvalidArgument when `address` is not HOST:PORT with a port in 1..65535.
Result<HostPort> ParseAddress(std::string_view address);

// Splits a list given as repeated and/or comma-separated values
// ("a:1,b:2" and "c:3" -> a:1 b:2 c:3), dropping empty items and checking
// each with ParseAddress.
Result<std::vector<std::string>> SplitAddressList(const std::vector<std::string>& items);

}  // namespace ringkv
