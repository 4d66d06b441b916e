// Test helpers for node/ tests: a raw TCP client with non-blocking reads, and
// a pump that runs an EventLoop until a condition holds or a deadline passes
// (tests never sleep to synchronise). Single-threaded: the loop and the
// client run on the test's thread.
#pragma once

#include <arpa/inet.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "node/event_loop.h"
#include "proto/codec.h"
#include "proto/frame.h"

namespace ringkv::testing {

// Runs `loop` until `done()` or `timeout_ms` passes; returns done().
inline bool PumpUntil(EventLoop* loop, const std::function<bool()>& done, int timeout_ms = 5000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    // A short timer bounds each turn when no I/O is ready.
    TimerId t = loop->RunAfter(1000, [] {});
    event_base_loop(loop->base(), EVLOOP_ONCE);
    loop->Cancel(t);
  }
  return true;
}

// `m` encoded and framed, as a client sends it.
inline std::string FrameOf(const Message& m) {
  std::string frame;
  AppendFrame(EncodeMessage(m), &frame);
  return frame;
}

inline Message PingWithId(uint64_t id) {
  Message m;
  m.request_id = id;
  m.body = Ping{};
  return m;
}

// Pings with ids 1 .. count, framed back to back (a pipelining client).
inline std::string PingFrames(uint64_t count) {
  std::string frames;
  for (uint64_t id = 1; id <= count; ++id) frames += FrameOf(PingWithId(id));
  return frames;
}

class TestClient {
 public:
  explicit TestClient(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }
  ~TestClient() { CloseNow(); }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connected() const { return connected_; }

  // Writes all of `bytes` (small test payloads fit the socket buffer).
  bool SendRaw(const std::string& bytes) {
    size_t off = 0;
    for (int guard = 0; guard < 100000 && off < bytes.size(); ++guard) {
      ssize_t n = send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n > 0) off += static_cast<size_t>(n);
      else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    }
    return off == bytes.size();
  }
  bool SendMessage(const Message& m) { return SendRaw(FrameOf(m)); }

  // Reads what is available; sets closed() on EOF or reset.
  void Poll() {
    char buf[4096];
    for (int guard = 0; guard < 1000; ++guard) {
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        in_.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        closed_ = true;
        return;
      } else {
        return;
      }
    }
  }
  bool closed() const { return closed_; }

  // A complete decoded message, if one has arrived.
  std::optional<Message> TakeMessage() {
    FrameParse p = ParseFrame(in_);
    if (p.state != FrameParse::State::kFrame) return std::nullopt;
    Result<Message> m = DecodeMessage(p.body);
    in_.erase(0, p.consumed);
    if (!m.ok()) return std::nullopt;
    return std::move(m).value();
  }

  void CloseNow() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string in_;
};

// Pumps until `client` has a message (returned) or the deadline passes.
inline std::optional<Message> AwaitMessage(EventLoop* loop, TestClient* client,
                                           int timeout_ms = 5000) {
  std::optional<Message> got;
  PumpUntil(loop, [&] {
    client->Poll();
    got = client->TakeMessage();
    return got.has_value();
  }, timeout_ms);
  return got;
}

inline bool AwaitClosed(EventLoop* loop, TestClient* client, int timeout_ms = 5000) {
  return PumpUntil(loop, [&] {
    client->Poll();
    return client->closed();
  }, timeout_ms);
}

}  // namespace ringkv::testing
