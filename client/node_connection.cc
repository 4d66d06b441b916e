#include "client/node_connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/host_port.h"
#include "common/tls.h"
#include "proto/codec.h"
#include "proto/frame.h"

namespace ringkv {
namespace {

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// OpenSSL writes to the socket with write(), which raises SIGPIPE when the
// node has closed the connection (as a TLS node does with a certificate it
// refuses): held back while an SSL call runs, and a SIGPIPE it raised
// dropped, so the error comes back as a value (the plain path uses
// MSG_NOSIGNAL).
class NoSigpipe {
 public:
  NoSigpipe() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~NoSigpipe() {
    if (!was_pending_) {
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  NoSigpipe(const NoSigpipe&) = delete;
  NoSigpipe& operator=(const NoSigpipe&) = delete;

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

}  // namespace

int MillisecondsLeft(Deadline deadline) {
  // Rounded up, so that a poll() for this long does not end before the
  // deadline, and 0 means the deadline has passed.
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline -
                                                           std::chrono::steady_clock::now());
  if (left.count() <= 0) return 0;
  if (left.count() > INT32_MAX) return INT32_MAX;
  return static_cast<int>(left.count());
}

NodeConnection::NodeConnection(std::string address, const TlsContext* tls)
    : address_(std::move(address)), tls_(tls) {}

NodeConnection::~NodeConnection() { Close(); }

void NodeConnection::Close() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  ssl_ = nullptr;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  inbuf_.clear();
}

Status NodeConnection::WaitFor(short events, Deadline deadline) {
  for (;;) {
    const int left = MillisecondsLeft(deadline);
    if (left == 0) return Status::Timeout("no answer from " + address_ + " before the deadline");
    pollfd pfd{fd_, events, 0};
    const int n = ::poll(&pfd, 1, left);
    if (n > 0) return Status::OK();
    if (n < 0 && errno != EINTR) return Status::Unavailable(Errno("poll"));
  }
}

Status NodeConnection::Open(Deadline deadline) {
  if (fd_ >= 0) return Status::OK();
  Result<HostPort> target = ParseHostPort(address_);
  if (!target.ok()) return target.status();
  const int budget_ms = MillisecondsLeft(deadline);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(target->port);
  if (int rc = ::getaddrinfo(target->host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return Status::Unavailable("cannot resolve " + address_ + ": " + gai_strerror(rc));
  }
  Status last = Status::Unavailable("no address for " + address_);
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    fd_ = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd_ < 0) {
      last = Status::Unavailable(Errno("socket"));
      continue;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (::connect(fd_, ai->ai_addr, ai->ai_addrlen) == 0) break;
    bool timed_out = false;
    if (errno == EINPROGRESS) {
      Status st = WaitFor(POLLOUT, deadline);
      int err = 0;
      socklen_t len = sizeof(err);
      if (st.ok() && ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) break;
      timed_out = st.IsTimeout();
      if (timed_out) {
        last = Status::Unavailable("cannot connect to " + address_ + ": no answer within " +
                                   std::to_string(budget_ms) + " ms");
      } else {
        last = st.ok() ? Status::Unavailable("cannot connect to " + address_ + ": " +
                                             std::strerror(err))
                       : st;
      }
    } else {
      last = Status::Unavailable("cannot connect to " + address_ + ": " + std::strerror(errno));
    }
    Close();
    // The time for this node is spent; its other addresses would get none.
    if (timed_out) break;
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) return last;
  if (tls_ == nullptr) return Status::OK();
  Status st = TlsHandshake(deadline);
  if (!st.ok()) Close();
  return st;
}

Status NodeConnection::TlsWait(int rc, Deadline deadline, const char* what) {
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ:
      return WaitFor(POLLIN, deadline);
    case SSL_ERROR_WANT_WRITE:
      return WaitFor(POLLOUT, deadline);
    case SSL_ERROR_ZERO_RETURN:
      return Status::Unavailable("connection to " + address_ + " closed by the node");
    case SSL_ERROR_SYSCALL:
      return Status::Unavailable("connection to " + address_ + " lost" +
                                 (errno != 0 ? std::string(": ") + std::strerror(errno) : "") +
                                 " (" + what + ")");
    default:
      return Status::Unavailable("TLS " + std::string(what) + " with " + address_ +
                                 " failed: " + TakeTlsErrors());
  }
}

Status NodeConnection::TlsHandshake(Deadline deadline) {
  ssl_ = tls_->NewSsl();
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
    return Status::Unavailable("cannot start TLS: " + TakeTlsErrors());
  }
  ERR_clear_error();
  for (;;) {
    int rc;
    {
      NoSigpipe guard;
      rc = SSL_connect(ssl_);
    }
    if (rc == 1) return Status::OK();
    Status st = TlsWait(rc, deadline, "handshake");
    if (st.IsTimeout()) {
      return Status::Unavailable("TLS handshake with " + address_ + " unfinished by the deadline");
    }
    RINGKV_RETURN_IF_ERROR(st);
  }
}

Status NodeConnection::SendAll(const std::string& bytes, Deadline deadline) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      int n;
      {
        NoSigpipe guard;
        n = SSL_write(ssl_, bytes.data() + sent,
                      static_cast<int>(std::min<size_t>(bytes.size() - sent, 1 << 30)));
      }
      if (n > 0) {
        sent += static_cast<size_t>(n);
        continue;
      }
      RINGKV_RETURN_IF_ERROR(TlsWait(n, deadline, "write"));
      continue;
    }
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      RINGKV_RETURN_IF_ERROR(WaitFor(POLLOUT, deadline));
      continue;
    }
    return Status::Unavailable("connection to " + address_ + " lost: " + std::strerror(errno));
  }
  return Status::OK();
}

Result<std::optional<Message>> NodeConnection::ParseBuffered(uint64_t request_id) {
  for (;;) {
    FrameParse frame = ParseFrame(inbuf_);
    if (frame.state == FrameParse::State::kError) {
      return Status::Corruption("bad frame from " + address_ + ": " + frame.error.message());
    }
    if (frame.state != FrameParse::State::kFrame) return std::optional<Message>();
    Result<Message> message = DecodeMessage(frame.body);
    inbuf_.erase(0, frame.consumed);
    if (!message.ok()) {
      return Status::Corruption("bad message from " + address_ + ": " +
                                message.status().message());
    }
    if (message->request_id == request_id) return std::optional<Message>(std::move(*message));
    // Otherwise a late reply to a request we gave up on (or did not wait
    // for, like a read-repair request): skipped.
  }
}

Status NodeConnection::ReadSome() {
  char buf[64 * 1024];
  if (ssl_ != nullptr) {
    // Everything OpenSSL can decrypt now: what stays in it would not wake
    // a poll() on the socket.
    for (;;) {
      ERR_clear_error();
      int n;
      {
        NoSigpipe guard;
        n = SSL_read(ssl_, buf, sizeof(buf));
      }
      if (n > 0) {
        inbuf_.append(buf, static_cast<size_t>(n));
        continue;
      }
      const int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::OK();
      return TlsWait(n, Deadline::min(), "read");
    }
  }
  const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
  if (n > 0) {
    inbuf_.append(buf, static_cast<size_t>(n));
  } else if (n == 0) {
    return Status::Unavailable("connection to " + address_ + " closed by the node");
  } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
    return Status::Unavailable("connection to " + address_ + " lost: " + std::strerror(errno));
  }
  return Status::OK();
}

Result<Message> NodeConnection::ReceiveReply(uint64_t request_id, Deadline deadline) {
  for (;;) {
    Result<std::optional<Message>> got = ParseBuffered(request_id);
    if (!got.ok()) return got.status();
    if (got->has_value()) return std::move(**got);
    RINGKV_RETURN_IF_ERROR(WaitFor(POLLIN, deadline));
    RINGKV_RETURN_IF_ERROR(ReadSome());
  }
}

Status NodeConnection::Send(const Message& request, Deadline deadline) {
  RINGKV_RETURN_IF_ERROR(Open(deadline));
  std::string bytes;
  AppendFrame(EncodeMessage(request), &bytes);
  Status st = SendAll(bytes, deadline);
  if (!st.ok()) Close();
  return st;
}

Result<std::optional<Message>> NodeConnection::TryReceive(uint64_t request_id) {
  if (fd_ < 0) return Status::Unavailable("connection to " + address_ + " is closed");
  Result<std::optional<Message>> got = ParseBuffered(request_id);
  if (got.ok() && !got->has_value()) {
    Status st = ReadSome();
    if (!st.ok()) {
      Close();
      return st;
    }
    got = ParseBuffered(request_id);
  }
  if (!got.ok()) Close();
  return got;
}

Result<Message> NodeConnection::Call(const Message& request, Deadline deadline) {
  RINGKV_RETURN_IF_ERROR(Send(request, deadline));
  Result<Message> reply = ReceiveReply(request.request_id, deadline);
  if (!reply.ok()) Close();
  return reply;
}

}  // namespace ringkv
