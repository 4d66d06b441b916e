// ringkv-admin's ring changes (docs/cli.md, docs/ring-changes.md):
// `ring state|join|leave|plan|commit|clear`, `transfers` and `bucket`. Each sends one
// RingAdminRequest to --node (which forwards changes to the claimant) and
// prints the answer as text or, with --json, one JSON object.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "tools/credential_flags.h"

namespace ringkv {

class RingChangeCommands {
 public:
  // Registers the subcommands under `ring`, and `transfers` and `bucket`
  // under `app`; the pointed-to global flags are read when a command runs.
  RingChangeCommands(CLI::App* app, CLI::App* ring, const std::string* node,
                     const uint32_t* timeout_ms, const CredentialFlags* credentials);
  ~RingChangeCommands();

  // Whether one of them was on the command line; then Run() is its exit code.
  bool Parsed() const;
  int Run() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringkv
