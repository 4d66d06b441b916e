// NodeConnection: one blocking, framed TCP connection from a client to one
// node (docs/wire-protocol.md), with every wait bounded by a deadline.
//
// The socket is non-blocking underneath and every connect, send and receive
// waits in poll() for at most the time left, so neither a dead nor a paused
// node can hang the caller. Replies are matched to requests by id; a late
// reply to an earlier, abandoned request is skipped.
//
// With a TlsContext the connection is TLS 1.3: the handshake is part of
// Open (same deadline), and every read drains what OpenSSL decrypted, so
// that a poll() on fd() never waits for bytes already received.
//
// Thread-safety: none; owned and used by one Client.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "proto/messages.h"

typedef struct ssl_st SSL;

namespace ringkv {

class TlsContext;

using Deadline = std::chrono::steady_clock::time_point;

class NodeConnection {
 public:
  // REQUIRES: `address` is "host:port" (checked by the caller). `tls`, when
  // given, must outlive this.
  explicit NodeConnection(std::string address, const TlsContext* tls = nullptr);
  ~NodeConnection();
  NodeConnection(const NodeConnection&) = delete;
  NodeConnection& operator=(const NodeConnection&) = delete;

  // Sends `request` (connecting first if needed) and returns the reply that
  // carries its request id. Errors: Unavailable when the connection could
  // not be made or broke (the caller may try another node), Timeout when the
  // deadline passed after the connection was made, Corruption on a malformed
  // frame or message. The connection is closed after any error.
  Result<Message> Call(const Message& request, Deadline deadline);

  // Connects unless connected. Unavailable on failure, also when no answer
  // to the connection request came by `deadline` (an address that swallows
  // SYNs): the node cannot be reached, and the caller may try another.
  Status Open(Deadline deadline);

  // The two halves of Call, for a caller that has requests out on several
  // connections at once and waits for them in one poll() over fd(): Send
  // connects if needed and writes the whole request; TryReceive reads what
  // the socket holds without waiting and returns the reply carrying
  // `request_id` once it is complete (nullopt: not yet). Both close the
  // connection after any error, with the errors of Call.
  Status Send(const Message& request, Deadline deadline);
  Result<std::optional<Message>> TryReceive(uint64_t request_id);
  int fd() const { return fd_; }
  void Close();
  bool connected() const { return fd_ >= 0; }
  const std::string& address() const { return address_; }

 private:
  Status SendAll(const std::string& bytes, Deadline deadline);
  Result<Message> ReceiveReply(uint64_t request_id, Deadline deadline);
  // Takes the reply carrying `request_id` out of inbuf_ if it is there.
  Result<std::optional<Message>> ParseBuffered(uint64_t request_id);
  // One recv() into inbuf_; OK also when nothing was there (EAGAIN).
  Status ReadSome();
  // Waits for `events` on the socket until the deadline.
  Status WaitFor(short events, Deadline deadline);
  Status TlsHandshake(Deadline deadline);
  // Waits as OpenSSL asks after `rc` from an SSL call (WANT_READ or
  // WANT_WRITE); any other outcome is an error.
  Status TlsWait(int rc, Deadline deadline, const char* what);

  const std::string address_;
  const TlsContext* tls_;
  SSL* ssl_ = nullptr;  // with tls_, while connected
  int fd_ = -1;
  std::string inbuf_;  // received bytes not yet parsed into frames
};

// Milliseconds from now until `deadline`, rounded up; 0 once it has passed.
int MillisecondsLeft(Deadline deadline);

}  // namespace ringkv
