#include "node/join_request.h"

#include <netdb.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/host_port.h"
#include "proto/codec.h"
#include "proto/frame.h"
#include "replication/ring_state_codec.h"
#include "node/socket_util.h"

namespace ringkv {
namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits for `events` on `fd` until the deadline.
Status Await(int fd, short events, Clock::time_point deadline, const std::string& seed) {
  pollfd p{fd, events, 0};
  const int n = ::poll(&p, 1, MillisLeft(deadline));
  if (n == 0) return Status::Unavailable("no answer from " + seed + " in time");
  if (n < 0) return Status::Unavailable(std::string("poll: ") + std::strerror(errno));
  return Status::OK();
}

// The seed's address: numeric as it is, or a name resolved now (a pod's
// seed is another pod's DNS name). This runs before the node's loop, so a
// blocking lookup stalls nothing.
Status ResolveSeed(const std::string& seed, sockaddr_storage* addr, int* len) {
  if (ParseSockaddr(seed, addr, len).ok()) return Status::OK();
  Result<HostPort> at = ParseHostPort(seed);
  if (!at.ok()) return at.status();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(at->port);
  if (int rc = ::getaddrinfo(at->host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Status::Unavailable("cannot resolve " + seed + ": " + ::gai_strerror(rc));
  }
  std::memcpy(addr, found->ai_addr, found->ai_addrlen);
  *len = static_cast<int>(found->ai_addrlen);
  ::freeaddrinfo(found);
  return Status::OK();
}

// The connection to the seed: plain TCP, or TLS over it. Each call waits
// (poll) until it made progress or the deadline passed.
class SeedIo {
 public:
  SeedIo(int fd, const std::string& seed, Clock::time_point deadline)
      : fd_(fd), seed_(seed), deadline_(deadline) {}
  ~SeedIo() {
    if (ssl_ != nullptr) SSL_free(ssl_);
  }
  SeedIo(const SeedIo&) = delete;
  SeedIo& operator=(const SeedIo&) = delete;

  // The TLS handshake, verifying the seed's certificate against the
  // context's CA (any member's will do: the claimant is found through it).
  Status Handshake(const TlsContext& tls) {
    ssl_ = tls.NewSsl();
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
      return Status::Internal("TLS: " + TakeTlsErrors("cannot make a connection"));
    }
    for (;;) {
      const int rc = SSL_connect(ssl_);
      if (rc == 1) return Status::OK();
      RINGKV_RETURN_IF_ERROR(Retry(rc, "TLS handshake with"));
    }
  }

  // Bytes sent (> 0), or why none can be.
  Result<size_t> Send(const char* data, size_t size) {
    for (;;) {
      if (ssl_ != nullptr) {
        const int n = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 20)));
        if (n > 0) return static_cast<size_t>(n);
        RINGKV_RETURN_IF_ERROR(Retry(n, "send to"));
        continue;
      }
      RINGKV_RETURN_IF_ERROR(Await(fd_, POLLOUT, deadline_, seed_));
      const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
      if (n > 0) return static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return Status::Unavailable("send to " + seed_ + ": " + std::strerror(errno));
      }
    }
  }

  // Bytes received into `buf` (> 0), or why none can be.
  Result<size_t> Recv(char* buf, size_t size) {
    for (;;) {
      if (ssl_ != nullptr) {
        const int n = SSL_read(ssl_, buf, static_cast<int>(size));
        if (n > 0) return static_cast<size_t>(n);
        RINGKV_RETURN_IF_ERROR(Retry(n, "recv from"));
        continue;
      }
      RINGKV_RETURN_IF_ERROR(Await(fd_, POLLIN, deadline_, seed_));
      const ssize_t n = ::recv(fd_, buf, size, 0);
      if (n > 0) return static_cast<size_t>(n);
      if (n == 0) return Status::Unavailable(seed_ + " closed the connection");
      if (errno != EAGAIN && errno != EINTR) {
        return Status::Unavailable("recv from " + seed_ + ": " + std::strerror(errno));
      }
    }
  }

 private:
  // After an SSL call returned `rc`: waits when OpenSSL wants the socket
  // readable or writable, else the failure.
  Status Retry(int rc, const char* doing) {
    switch (SSL_get_error(ssl_, rc)) {
      case SSL_ERROR_WANT_READ:
        return Await(fd_, POLLIN, deadline_, seed_);
      case SSL_ERROR_WANT_WRITE:
        return Await(fd_, POLLOUT, deadline_, seed_);
      case SSL_ERROR_ZERO_RETURN:
        return Status::Unavailable(seed_ + " closed the connection");
      default:
        return Status::Unavailable(std::string(doing) + " " + seed_ + ": " +
                                   TakeTlsErrors("connection closed (not a TLS server, or it "
                                                 "refused this node's TLS)"));
    }
  }

  int fd_;
  const std::string& seed_;
  Clock::time_point deadline_;
  SSL* ssl_ = nullptr;
};

}  // namespace

Result<RingState> RequestJoin(const std::string& seed, const NodeId& self,
                              const std::string& address, const std::string& auth_token,
                              uint32_t timeout_ms, const TlsContext* tls) {
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  sockaddr_storage addr{};
  int len = 0;
  RINGKV_RETURN_IF_ERROR(ResolveSeed(seed, &addr, &len));
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 && errno != EINPROGRESS) {
    return Status::Unavailable("cannot connect to " + seed + ": " + std::strerror(errno));
  }
  RINGKV_RETURN_IF_ERROR(Await(fd, POLLOUT, deadline, seed));
  int error = 0;
  socklen_t error_len = sizeof(error);
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len);
  if (error != 0) return Status::Unavailable("cannot connect to " + seed + ": " + std::strerror(error));
  SeedIo io(fd, seed, deadline);
  if (tls != nullptr) RINGKV_RETURN_IF_ERROR(io.Handshake(*tls));

  Message request;
  request.request_id = 1;
  request.timeout_ms = timeout_ms;
  request.auth_token = auth_token;
  request.body = RingAdminRequest{"join", self, address, {}, 0, {}, {}, {}};
  std::string out;
  AppendFrame(EncodeMessage(request), &out);
  for (size_t sent = 0; sent < out.size();) {
    Result<size_t> n = io.Send(out.data() + sent, out.size() - sent);
    if (!n.ok()) return n.status();
    sent += *n;
  }
  std::string in;
  for (;;) {
    FrameParse frame = ParseFrame(in);
    if (frame.state == FrameParse::State::kError) return frame.error;
    if (frame.state == FrameParse::State::kFrame) {
      Result<Message> reply = DecodeMessage(frame.body);
      if (!reply.ok()) return reply.status();
      if (auto* err = std::get_if<ErrorReply>(&reply->body)) return err->status;
      auto* answer = std::get_if<RingAdminReply>(&reply->body);
      if (answer == nullptr) return Status::Corruption(seed + " answered the join with another type");
      if (!answer->status.ok()) return answer->status;
      return DecodeRingState(answer->state);
    }
    char buf[16384];
    Result<size_t> n = io.Recv(buf, sizeof(buf));
    if (!n.ok()) return n.status();
    in.append(buf, *n);
  }
}

}  // namespace ringkv
