// The requests ringkv-admin's `ring` subcommands send (docs/cli.md), and
// the ring changes of `ringkv-cluster add` and `remove` made of them.
#pragma once

#include <chrono>
#include <string>

#include "client/client.h"
#include "common/status.h"
#include "proto/messages.h"
#include "replication/ring_state_codec.h"
#include "ring/ring_state.h"

namespace ringkv {

// One RingAdminRequest to `address` (with the client token `auth_token`,
// when the node asks for one): its reply when the status is ok, else that
// status.
Result<RingAdminReply> AskRing(const std::string& address, RingAdminRequest request,
                               std::chrono::milliseconds timeout,
                               const ClientOptions::Tls& tls = {},
                               const std::string& auth_token = {});

// The node's ring state.
Result<RingState> RingStateOf(const std::string& address, std::chrono::milliseconds timeout,
                              const ClientOptions::Tls& tls = {});

// Plans the staged changes at `address` and commits that very plan.
Result<PlanView> PlanAndCommit(const std::string& address, std::chrono::milliseconds timeout,
                               const ClientOptions::Tls& tls = {});

}  // namespace ringkv
