// ringkv-admin aae: anti-entropy's commands (docs/cli.md, docs/anti-entropy.md).
// `status` per partition: tree state, root, last exchange, repairs, bytes,
// tombstones pending and reaped; `exchange PARTITION` runs one exchange now;
// `reap [PARTITION]` runs a full reaping pass now and says what was reaped
// and why the rest was kept. ringkv-admin registers them and supplies the
// one request to the node.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "proto/messages.h"

namespace ringkv {

class AaeCommands {
 public:
  // One request to the node at --node, and its reply body.
  using Ask = std::function<Result<MessageBody>(MessageBody)>;
  // Prints why a command failed and returns its exit status.
  using Fail = std::function<int(const Status&)>;

  // Adds `aae` and its subcommands to `app`; `this` must outlive parsing.
  explicit AaeCommands(CLI::App* app);

  bool parsed() const;
  // Runs the subcommand parsed; returns the exit status.
  int Run(const Ask& ask, const Fail& fail) const;

 private:
  int ShowStatus(const Ask& ask, const Fail& fail) const;
  int RunExchange(const Ask& ask, const Fail& fail) const;
  int RunReap(const Ask& ask, const Fail& fail) const;

  CLI::App* status_;
  CLI::App* exchange_;
  CLI::App* reap_;
  bool json_ = false;
  bool verify_ = false;
  uint32_t partition_ = 0;
  std::string peer_;
};

}  // namespace ringkv
