// The fixture most integration tests share: a LocalClusterFixture
// (tests/integration/harness.h) whose node logs are printed when the test
// failed, the CLI call that must succeed, and a client of one node. Header-only: the harness
// library itself does not depend on GoogleTest.
#pragma once

#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/test_client.h"

namespace ringkv::testing {

class ClusterTestBase : public ::testing::Test {
 protected:
  explicit ClusterTestBase(int nodes = 3) : cluster_(nodes) {}

  // `ringkv-cluster start` with `extra`; a cluster that does not start fails
  // the test (call it under ASSERT_NO_FATAL_FAILURE to stop there).
  void StartCluster(const std::vector<std::string>& extra = {}) {
    CommandResult r = cluster_.Start(extra);
    ASSERT_EQ(r.exit_code, 0) << r.Describe() << "\n" << cluster_.LogTails();
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << cluster_.LogTails();
  }
  // `ringkv` through node `node` (1-based), expected to exit 0.
  CommandResult Ok(int node, const std::vector<std::string>& args) {
    CommandResult r = cluster_.Cli(node, args);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return r;
  }
  // A client of node `node` (1-based) alone, with a 5 s deadline.
  std::unique_ptr<Client> Connect(int node) { return ClientFor({cluster_.Address(node)}, 5000); }

  LocalClusterFixture cluster_;
};

}  // namespace ringkv::testing
