// ConnectionLimits: what one node lets its connections hold, each and all
// together, so that no client (slow, idle, never reading, or many of them)
// can grow the node's memory without bound (docs/wire-protocol.md,
// "Limits"). Every field is a ringkv-node flag (docs/cli.md).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringkv {

struct ConnectionLimits {
  // Open connections, clients and peers together. A connection arriving at
  // the cap closes the connection idle the longest; if none is idle, the
  // new one is closed.
  size_t max_connections = 1024;
  // A connection with nothing in progress (no unfinished frame, no request
  // being served, no reply to send) for this long is closed, and so is one
  // whose client takes none of its unsent replies for this long; 0 = never.
  int64_t idle_timeout_ms = 300'000;
  // A frame must arrive whole within this long of its first byte, however
  // steadily its bytes come (slowloris); the connection is closed if not.
  int64_t frame_deadline_ms = 30'000;
  // Back-pressure before dispatch: a connection whose client requests being
  // served reach this, or whose unsent replies pass max_output_bytes, is
  // not read (nor are requests already read dispatched) until they fall to
  // half of it.
  uint32_t max_requests_in_flight = 128;
  size_t max_output_bytes = 4u << 20;
  // The connection buffers of the whole node. Past it, a buffer may not
  // grow beyond kFreeBufferBytes to read a large frame (the connection
  // waits, its frame deadline running), and a connection is dispatched one
  // request at a time, none while it holds more than that of unsent replies.
  size_t max_buffered_bytes = 256u << 20;
};

// What each connection may always buffer, whatever the node's budget says:
// small requests and replies never wait for memory.
inline constexpr size_t kFreeBufferBytes = 64u << 10;

}  // namespace ringkv
