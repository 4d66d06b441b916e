// Exit codes of the client-side tools (ringkv, ringkv-admin), a contract
// that scripts rely on (docs/cli.md): 0 success, 1 not found, 2 usage or
// bad input, 3 unavailable (quorum not reached or deadline passed), 4 any
// other error, 5 object_too_large (the write would pass the key's object
// cap), 6 unauthenticated (no token, or one the node does not know), 7
// forbidden (the token lacks the grant), 8 too_many_siblings (the write
// would pass the bucket's sibling cap), 9 precondition_failed (a conditional
// put found the key changed since its read). DO NOT CHANGE the numbers.
#pragma once

#include "common/status.h"

namespace ringkv {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNotFound = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnavailable = 3;
inline constexpr int kExitOther = 4;
inline constexpr int kExitObjectTooLarge = 5;
inline constexpr int kExitUnauthenticated = 6;
inline constexpr int kExitForbidden = 7;
inline constexpr int kExitTooManySiblings = 8;
inline constexpr int kExitPreconditionFailed = 9;

inline int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk:
      return kExitOk;
    case Status::Code::kNotFound:
      return kExitNotFound;
    case Status::Code::kInvalidArgument:
      return kExitUsage;
    case Status::Code::kUnavailable:
    case Status::Code::kTimeout:
      return kExitUnavailable;
    case Status::Code::kObjectTooLarge:
      return kExitObjectTooLarge;
    case Status::Code::kUnauthenticated:
      return kExitUnauthenticated;
    case Status::Code::kForbidden:
      return kExitForbidden;
    case Status::Code::kTooManySiblings:
      return kExitTooManySiblings;
    case Status::Code::kPreconditionFailed:
      return kExitPreconditionFailed;
    default:
      return kExitOther;
  }
}

}  // namespace ringkv
