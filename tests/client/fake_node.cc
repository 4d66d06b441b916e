#include "tests/client/fake_node.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "proto/codec.h"
#include "proto/frame.h"

namespace ringkv::testing {

Message ReplyTo(const Message& request, MessageBody body) {
  Message reply;
  reply.request_id = request.request_id;
  reply.from = "fake";
  reply.body = std::move(body);
  return reply;
}

FakeNode::FakeNode(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("FakeNode: cannot listen");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Run(); });
}

FakeNode::~FakeNode() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

void FakeNode::Run() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    Serve(fd);
    ::close(fd);
  }
}

void FakeNode::Serve(int fd) {
  std::string buf;
  while (!stop_) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0) continue;
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return;
    buf.append(chunk, static_cast<size_t>(n));
    for (;;) {
      FrameParse frame = ParseFrame(buf);
      if (frame.state == FrameParse::State::kError) return;
      if (frame.state == FrameParse::State::kNeedMore) break;
      Result<Message> request = DecodeMessage(frame.body);
      buf.erase(0, frame.consumed);
      if (!request.ok()) return;
      ++requests_;
      std::string out;
      for (const Message& reply : handler_(*request)) AppendFrame(EncodeMessage(reply), &out);
      if (!out.empty()) (void)!::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (drop_.exchange(false)) return;
    }
  }
}

SwallowingListener::SwallowingListener() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  filler_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || filler_fd_ < 0 ||
      ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 0) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::connect(filler_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    throw std::runtime_error("SwallowingListener: cannot fill an accept queue");
  }
  port_ = ntohs(addr.sin_port);
}

SwallowingListener::~SwallowingListener() {
  ::close(filler_fd_);
  ::close(listen_fd_);
}

}  // namespace ringkv::testing
