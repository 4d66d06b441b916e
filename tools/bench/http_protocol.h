// HttpProtocol: ringkv's HTTP API (docs/http-api.md) as a ringkv-bench
// target ("http://HOST:PORT"), so the cost of HTTP over the binary protocol
// is measured with the same load engine, in the same run. GET and PUT of
// /v1/buckets/{bucket}/keys/{key} over keep-alive connections, ping as GET
// /livez. HTTP/1.1 answers in request order. Not thread-safe (one per
// connection).
#pragma once

#include <memory>

#include "tools/bench/protocol.h"
#include "tools/bench/ringkv_protocol.h"

namespace ringkv::bench {

class HttpProtocol : public Protocol {
 public:
  explicit HttpProtocol(RingkvOptions options);
  void Encode(uint64_t id, const Request& request, std::string* out) override;
  ParseState Parse(std::string_view buf, size_t* consumed, Reply* reply) override;
  bool ordered() const override { return true; }

 private:
  RingkvOptions options_;
  std::string bucket_path_;  // "/v1/buckets/<encoded bucket>/keys/"
  std::string read_query_, write_query_;
};

std::unique_ptr<ProtocolFactory> NewHttpProtocolFactory(const RingkvOptions& options);

}  // namespace ringkv::bench
