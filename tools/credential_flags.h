// The credentials the client-side tools (ringkv, ringkv-admin, ringkv-bench)
// connect with: TLS files and a bearer token, from flags or the environment (docs/cli.md,
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
  std::string token, token_file;
};

// Adds --tls, --tls-ca, --tls-cert, --tls-key, --token and --token-file.
void AddCredentialFlags(CLI::App* app, CredentialFlags* flags);

// Sets `options->tls` and `options->token` from the flags, else
// RINGKV_TLS_CA, RINGKV_TLS_CERT, RINGKV_TLS_KEY, RINGKV_TOKEN and
// RINGKV_TOKEN_FILE (a file's first line, trimmed). InvalidArgument for
// --tls without a CA file, or a token file that cannot be read.
Status ApplyCredentials(const CredentialFlags& flags, ClientOptions* options);

}  // namespace ringkv
