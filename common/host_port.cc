#include "common/host_port.h"

#include <charconv>

namespace ringkv {
namespace {

Status Bad(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("bad address '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

std::string HostPort::ToString() const {
  const std::string p = std::to_string(port);
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + p;
  return host + ":" + p;
}

Result<HostPort> ParseHostPort(std::string_view text) {
  std::string_view host, port;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return Bad(text, "no ']' closes the IPv6 host");
    if (close + 1 == text.size() || text[close + 1] != ':') {
      return Bad(text, "expected [HOST]:PORT");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Bad(text, "expected HOST:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    // "::1:7101" could be ::1 port 7101 or ::1:7101 with no port at all.
    if (host.find(':') != std::string_view::npos) {
      return Bad(text, "an IPv6 host goes in brackets, as in [::1]:7101");
    }
  }
  if (host.empty()) return Bad(text, "no host before the port");
  // from_chars takes no sign or space; `end` catches trailing junk ("80x").
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return Bad(text, "the port must be a number from 1 to 65535");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(value)};
}

}  // namespace ringkv
