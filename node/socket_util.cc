#include "node/socket_util.h"

#include <arpa/inet.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstring>

#include "common/host_port.h"

namespace ringkv {

std::string JoinHostPort(const std::string& host, uint16_t port) {
  return HostPort{host, port}.ToString();
}

Status ParseSockaddr(const std::string& address, sockaddr_storage* out, int* len) {
  std::memset(out, 0, sizeof(*out));
  *len = sizeof(*out);
  if (evutil_parse_sockaddr_port(address.c_str(), reinterpret_cast<sockaddr*>(out), len) != 0) {
    return Status::InvalidArgument("not a numeric host:port address: '" + address + "'");
  }
  return Status::OK();
}

std::string FormatSockaddr(const sockaddr* addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    evutil_inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "?";
}

void SetNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace ringkv
