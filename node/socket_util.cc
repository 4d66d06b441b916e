#include "node/socket_util.h"

#include <arpa/inet.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
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

bool IsSpecificNumericHost(const std::string& host) {
  in_addr v4;
  in6_addr v6;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return v4.s_addr != htonl(INADDR_ANY);
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return !IN6_IS_ADDR_UNSPECIFIED(&v6);
  return false;
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4;
  in6_addr v6;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

Result<int> NewBoundSocket(const std::string& host, int family) {
  sockaddr_storage addr;
  std::memset(&addr, 0, sizeof(addr));
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    in->sin_family = AF_INET;
    if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) == 1) len = sizeof(*in);
  } else if (family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    in6->sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) len = sizeof(*in6);
  }
  if (len == 0) {
    return Status::InvalidArgument("source address '" + host +
                                   "' is not a numeric address of the peer's family");
  }
  const int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  // Without this, bind() would reserve a local port before the destination
  // is known, and every peer connection of the node would draw from one
  // pool of ports for the source address instead of one per destination.
  int one = 1;
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    const int err = errno;
    close(fd);
    return Status::IOError("cannot bind a socket to " + host + ": " + std::strerror(err));
  }
  return fd;
}

}  // namespace ringkv
