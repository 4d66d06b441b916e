// Ring changes for `ringkv-cluster add` and `remove` (docs/cli.md): the
// requests ringkv-admin's `ring` subcommands send, for a local cluster.
#pragma once

#include <chrono>
#include <string>

#include "client/client.h"
#include "common/status.h"
#include "proto/messages.h"
#include "replication/ring_state_codec.h"
#include "ring/ring_state.h"

namespace ringkv {

// One RingAdminRequest to `address`: its reply when the status is ok,
// else that status.
Result<RingAdminReply> AskRing(const std::string& address, RingAdminRequest request,
                               std::chrono::milliseconds timeout,
                               const ClientOptions::Tls& tls = {});

// The node's ring state.
Result<RingState> RingStateOf(const std::string& address, std::chrono::milliseconds timeout,
                              const ClientOptions::Tls& tls = {});

// Plans the staged changes at `address` and commits that very plan.
Result<PlanView> PlanAndCommit(const std::string& address, std::chrono::milliseconds timeout,
                               const ClientOptions::Tls& tls = {});

}  // namespace ringkv
