#include "tools/credential_flags.h"

#include <cstdlib>
#include <fstream>

namespace ringkv {
namespace {

std::string FlagOrEnv(const std::string& flag, const char* variable) {
  if (!flag.empty()) return flag;
  const char* value = std::getenv(variable);
  return value != nullptr ? value : "";
}

}  // namespace

void AddCredentialFlags(CLI::App* app, CredentialFlags* flags) {
  app->add_flag("--tls", flags->tls,
                "connect with TLS 1.3 (needs the cluster CA: --tls-ca or RINGKV_TLS_CA)");
  app->add_option("--tls-ca", flags->tls_ca,
                  "the cluster CA certificate (PEM); implies --tls [env RINGKV_TLS_CA]");
  app->add_option("--tls-cert", flags->tls_cert,
                  "a client certificate to present (PEM) [env RINGKV_TLS_CERT]");
  app->add_option("--tls-key", flags->tls_key,
                  "the key of --tls-cert (PEM) [env RINGKV_TLS_KEY]");
  app->add_option("--token", flags->token,
                  "bearer token for nodes that authenticate clients [env RINGKV_TOKEN]");
  app->add_option("--token-file", flags->token_file,
                  "read the token from this file's first line [env RINGKV_TOKEN_FILE]");
}

Status ApplyCredentials(const CredentialFlags& flags, ClientOptions* options) {
  options->tls.ca = FlagOrEnv(flags.tls_ca, "RINGKV_TLS_CA");
  options->tls.cert = FlagOrEnv(flags.tls_cert, "RINGKV_TLS_CERT");
  options->tls.key = FlagOrEnv(flags.tls_key, "RINGKV_TLS_KEY");
  if (flags.tls && options->tls.ca.empty()) {
    return Status::InvalidArgument("--tls needs the cluster CA: --tls-ca FILE or RINGKV_TLS_CA");
  }
  // The most specific source wins: a flag over a variable, a token over a file.
  std::string file = flags.token_file;
  options->token = flags.token;
  if (options->token.empty() && file.empty()) {
    options->token = FlagOrEnv("", "RINGKV_TOKEN");
    if (options->token.empty()) file = FlagOrEnv("", "RINGKV_TOKEN_FILE");
  }
  if (options->token.empty() && !file.empty()) {
    std::ifstream in(file);
    if (!in || !std::getline(in, options->token)) {
      return Status::InvalidArgument("cannot read a token from " + file);
    }
    const size_t end = options->token.find_last_not_of(" \t\r");
    options->token.erase(end == std::string::npos ? 0 : end + 1);
  }
  return Status::OK();
}

}  // namespace ringkv
