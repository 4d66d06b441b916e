// FakeNode: a scripted stand-in for ringkv-node, for client tests. It listens
// on 127.0.0.1 (a port picked by the kernel), serves one connection at a
// time on a background thread, and answers each decoded request with
// whatever the handler returns (nothing, one or several messages).
//
// Thread-safety: the handler runs on the fake's thread; counters are atomic.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "proto/messages.h"

namespace ringkv::testing {

class FakeNode {
 public:
  using Handler = std::function<std::vector<Message>(const Message& request)>;

  explicit FakeNode(Handler handler);
  ~FakeNode();
  FakeNode(const FakeNode&) = delete;
  FakeNode& operator=(const FakeNode&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }
  int connections() const { return connections_.load(); }
  // Closes the current connection after the next reply (a node restart).
  void DropConnectionAfterReply() { drop_ = true; }

 private:
  void Run();
  void Serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> drop_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

// A reply to `request` carrying `body`.
Message ReplyTo(const Message& request, MessageBody body);

// An address on 127.0.0.1 that swallows connection requests, as one behind a
// firewall that drops packets does, without privileges: its listener's
// accept queue (backlog 0) is kept full by one connection nobody accepts, so
// the kernel drops every further SYN and a connect there waits until its
// caller gives up. Thread-compatible.
class SwallowingListener {
 public:
  SwallowingListener();
  ~SwallowingListener();
  SwallowingListener(const SwallowingListener&) = delete;
  SwallowingListener& operator=(const SwallowingListener&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int listen_fd_ = -1;
  int filler_fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace ringkv::testing
