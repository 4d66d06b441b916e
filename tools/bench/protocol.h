// Protocol: how ringkv-bench turns one request into bytes on a connection and
// recognises one reply in the bytes that come back. One implementation per
// target system (redis_protocol.h, ringkv_protocol.h); the load engine
// (runner.h) owns sockets, timing and accounting and knows no protocol.
//
// A Protocol object serves one connection (it may keep per-connection
// state) and is used only by the thread owning that connection.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ringkv::bench {

enum class RequestKind { kGet, kPut, kPing };

struct Request {
  RequestKind kind = RequestKind::kGet;
  std::string_view key;
  std::string_view value;    // kPut
  std::string_view context;  // kPut: from an earlier Reply (empty = blind write)
  bool want_context = false; // kGet: fill Reply::context (read-modify-write)
  // kPut: conditional (ringkv's if_match): refused with
  // "precondition_failed" when the key changed since the read.
  bool if_match = false;
};

struct Reply {
  uint64_t id = 0;  // the request's id (ordered protocols echo the oldest one)
  bool ok = false;
  // When !ok: a short stable kind for the error table ("unavailable",
  // "timeout", "redis_error", ...).
  std::string error_kind;
  bool found = false;      // kGet
  size_t value_size = 0;   // kGet: size of the (first) value
  // kGet: values returned (ringkv); kPut: values the key held where the
  // write was coordinated, after it.
  uint32_t siblings = 0;
  size_t object_size = 0;  // kGet: bytes of every value returned together
  std::string context;     // kGet with want_context
};

class Protocol {
 public:
  virtual ~Protocol() = default;

  // Appends the encoded request `id` to `out`.
  virtual void Encode(uint64_t id, const Request& request, std::string* out) = 0;

  enum class ParseState { kNeedMore, kReply, kError };
  // Looks for one whole reply at the start of `buf`. On kReply sets *consumed
  // and *reply; on kError the stream is unusable (reason in reply->error_kind)
  // and the connection is closed.
  virtual ParseState Parse(std::string_view buf, size_t* consumed, Reply* reply) = 0;

  // True when replies come back in request order and carry no id (Redis);
  // the engine then matches each reply to its oldest pending request.
  virtual bool ordered() const = 0;
};

// Makes a fresh Protocol for each new connection.
class ProtocolFactory {
 public:
  virtual ~ProtocolFactory() = default;
  virtual std::unique_ptr<Protocol> NewProtocol() = 0;
};

}  // namespace ringkv::bench
