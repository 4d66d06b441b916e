// Small socket helpers shared by the server and the peer transport.
// Stateless functions; thread-safe.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "common/status.h"

namespace ringkv {

// "host:port" ("[v6]:port" for IPv6 hosts) for evutil_parse_sockaddr_port.
std::string JoinHostPort(const std::string& host, uint16_t port);
// Parses a numeric "host:port" into `*out`. InvalidArgument when it is not one.
Status ParseSockaddr(const std::string& address, sockaddr_storage* out, int* len);
// "1.2.3.4:5" or "[::1]:5"; "?" for families we do not print.
std::string FormatSockaddr(const sockaddr* addr);
// Disables Nagle: frames are small and latency matters more than packets.
void SetNoDelay(int fd);
// True for a numeric IPv4 or IPv6 host that names one address (not the
// wildcard 0.0.0.0 or ::): one a socket can be bound to as its source.
bool IsSpecificNumericHost(const std::string& host);
// True for "localhost" and numeric addresses in 127.0.0.0/8 or ::1: a
// listener there is reachable only from this machine.
bool IsLoopbackHost(const std::string& host);
// A new non-blocking, close-on-exec TCP socket of `family` bound to the
// numeric `host` with its port left to connect(), so that a connection made
// on it leaves from that address. InvalidArgument when `host` is not a
// numeric address of that family, IOError when the kernel refuses.
Result<int> NewBoundSocket(const std::string& host, int family);

}  // namespace ringkv
