// Helpers the client-library integration tests share: a connected Client
// for some nodes, and the seconds a wait took, for failure messages.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"

namespace ringkv::testing {

inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A client of `nodes` with a deadline of `timeout_ms`; null (and a test
// failure) when none accepts a connection.
inline std::unique_ptr<Client> ClientFor(std::vector<std::string> nodes,
                                         uint32_t timeout_ms = 3000) {
  ClientOptions options;
  options.nodes = std::move(nodes);
  options.timeout_ms = timeout_ms;
  Result<std::unique_ptr<Client>> client = Client::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

}  // namespace ringkv::testing
