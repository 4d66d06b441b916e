#include "tests/integration/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "common/host_port.h"

namespace ringkv::testing {

int ConnectTo(const std::string& address) {
  Result<HostPort> at = ParseHostPort(address);
  if (!at.ok()) return -1;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(at->port);
  if (::inet_pton(AF_INET, at->host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

HttpResult ParseHttpResponse(const std::string& bytes) {
  HttpResult r;
  const size_t end = bytes.find("\r\n\r\n");
  if (end == std::string::npos || bytes.compare(0, 5, "HTTP/") != 0) return r;
  const size_t sp = bytes.find(' ');
  r.status = std::atoi(bytes.c_str() + sp + 1);
  size_t line = bytes.find("\r\n") + 2;
  while (line < end) {
    const size_t next = bytes.find("\r\n", line);
    const std::string h = bytes.substr(line, next - line);
    const size_t colon = h.find(':');
    if (colon != std::string::npos) {
      std::string name = h.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      size_t v = colon + 1;
      while (v < h.size() && h[v] == ' ') ++v;
      r.headers[name] = h.substr(v);
    }
    line = next + 2;
  }
  r.body = bytes.substr(end + 4);
  if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
    r.body.resize(std::min<size_t>(r.body.size(), std::stoul(it->second)));
  }
  return r;
}

HttpResult HttpRaw(const std::string& address, const std::string& raw,
                   std::chrono::milliseconds timeout) {
  const int fd = ConnectTo(address);
  if (fd < 0) return {};
  size_t sent = 0;
  while (sent < raw.size()) {
    const ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string in;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
    HttpResult partial = ParseHttpResponse(in);
    const std::string length = partial.Header("content-length");
    if (partial.status != 0 && !length.empty() &&
        in.size() - in.find("\r\n\r\n") - 4 >= std::stoul(length)) {
      break;
    }
  }
  ::close(fd);
  return ParseHttpResponse(in);
}

HttpResult Http(const std::string& address, const std::string& method, const std::string& path,
                const std::vector<std::pair<std::string, std::string>>& headers,
                const std::string& body, bool send_length) {
  std::string raw = method + " " + path + " HTTP/1.1\r\nHost: " + address +
                    "\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) raw += name + ": " + value + "\r\n";
  if (send_length && (method == "PUT" || method == "POST" || !body.empty())) {
    raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  raw += "\r\n" + body;
  return HttpRaw(address, raw);
}

}  // namespace ringkv::testing
