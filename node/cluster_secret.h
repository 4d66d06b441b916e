// The cluster secret file (docs/security.md): the key peers prove they hold
// in the peer handshake (node/peer_handshake.h). One line of text, at least
// kMinClusterSecretBytes long once surrounding whitespace is trimmed, in a
// regular file that neither group nor others may access, so a secret that
// leaked through its permissions is refused rather than used.
// `ringkv-cluster start` creates one per cluster. Stateless functions.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"

namespace ringkv {

inline constexpr size_t kMinClusterSecretBytes = 32;
inline constexpr size_t kMaxClusterSecretBytes = 4096;

// The secret in `path`. InvalidArgument (saying why) when the file is
// accessible to group or others, is not a regular file, or holds a secret
// too short or too long; IOError when it cannot be read.
Result<std::string> ReadClusterSecret(const std::string& path);

// A fresh secret: 32 random bytes from OpenSSL, as 64 hex digits.
Result<std::string> RandomClusterSecret();

// Creates `path` with mode 0600, holding a RandomClusterSecret. IOError when the file already exists
// (an existing secret is never replaced) or cannot be written.
Status CreateClusterSecret(const std::string& path);

}  // namespace ringkv
