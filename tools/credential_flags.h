// The credentials the client-side tools (ringkv, ringkv-admin, ringkv-bench)
// connect with: TLS files, from flags or the environment (docs/cli.md,
// "Credentials"). A flag wins over its variable. Thread-compatible.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "client/client.h"
#include "common/status.h"

namespace ringkv {

struct CredentialFlags {
  bool tls = false;
  std::string tls_ca, tls_cert, tls_key;
};

// Adds --tls, --tls-ca, --tls-cert and --tls-key to `app`.
void AddCredentialFlags(CLI::App* app, CredentialFlags* flags);

// Sets `options->tls` from the flags, else RINGKV_TLS_CA, RINGKV_TLS_CERT
// and RINGKV_TLS_KEY. InvalidArgument for --tls without a CA file.
Status ApplyCredentials(const CredentialFlags& flags, ClientOptions* options);

}  // namespace ringkv
