// HOST:PORT, the one way ringkv names a TCP endpoint: member addresses in the
// cluster file, --listen, --node, bench targets, peers. An IPv6 host is
// written in brackets ("[::1]:7101") so that its colons cannot be mistaken
// for the port's. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ringkv {

struct HostPort {
  std::string host;  // a name or an address, without brackets
  uint16_t port = 0;

  // The text ParseHostPort reads back: "[host]:port" when the host holds a
  // colon, else "host:port".
  std::string ToString() const;
  bool operator==(const HostPort&) const = default;
};

// Parses HOST:PORT: a non-empty host (an IPv6 address in brackets) and a
// decimal port in 1..65535 with nothing after it. InvalidArgument, naming
// the text and what is wrong with it, otherwise. Names are not resolved.
Result<HostPort> ParseHostPort(std::string_view text);

}  // namespace ringkv
