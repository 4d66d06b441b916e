// RingkvProtocol: ringkv's own protocol (docs/wire-protocol.md): one framed
// Cap'n Proto Envelope per request and per reply, matched by request id, so
// replies may come back in any order. Reads return siblings and a context;
// a read-modify-write passes the read's context to its write. Not
// thread-safe (one per connection).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tools/bench/protocol.h"

namespace ringkv::bench {

struct RingkvOptions {
  std::string bucket = "bench";
  // Wire quorum values (common/quorum.h kQuorum*; 0 = bucket default).
  uint32_t r = 0, w = 0, pr = 0, pw = 0;
  uint32_t timeout_ms = 0;  // 0 = the node's default
  std::string token;        // bearer token of every request; empty: none
};

class RingkvProtocol : public Protocol {
 public:
  explicit RingkvProtocol(RingkvOptions options) : options_(std::move(options)) {}
  void Encode(uint64_t id, const Request& request, std::string* out) override;
  ParseState Parse(std::string_view buf, size_t* consumed, Reply* reply) override;
  bool ordered() const override { return false; }

 private:
  RingkvOptions options_;
  // Ids and keys of pending reads that need the context (bound to the key).
  std::vector<std::pair<uint64_t, std::string>> want_context_;
};

std::unique_ptr<ProtocolFactory> NewRingkvProtocolFactory(const RingkvOptions& options);

}  // namespace ringkv::bench
