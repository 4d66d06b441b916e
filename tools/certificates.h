// The cluster's certificate authority (ringkv-admin cert, docs/security.md):
// a self-signed CA, and node and client certificates it signs. A node's
// certificate names it in the URI "urn:ringkv:node:ID" (common/tls.h), a
// client's in "urn:ringkv:client:NAME". Keys are EC P-256. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace ringkv {

struct PemPair {
  std::string cert;
  std::string key;
};

struct CertificateRequest {
  enum class Kind { kNode, kClient };
  Kind kind = Kind::kNode;
  std::string name;  // the node id or client name
  // Valid from now + not_before_s until now + not_after_s (tests make
  // expired ones with both negative).
  int64_t not_before_s = -300;  // clocks of a cluster differ a little
  int64_t not_after_s = int64_t{365} * 86400;
  // Host names and IP addresses the certificate is also valid for, so that
  // tools that check a host name (curl, openssl s_client) accept it.
  std::vector<std::string> hosts;
};

// A new CA with the common name `name`, valid for `days`.
Result<PemPair> NewCertificateAuthority(const std::string& name, int days);
// A certificate signed by `ca`. InvalidArgument for a name that is empty,
// too long or has characters other than letters, digits and "._-".
Result<PemPair> IssueCertificate(const PemPair& ca, const CertificateRequest& request);

// The files of a CA directory: DIR/ca.crt, DIR/ca.key (0600).
Status WriteCertificateAuthority(const std::string& dir, const PemPair& ca);
Result<PemPair> ReadCertificateAuthority(const std::string& dir);
// Writes DIR/NAME.crt and DIR/NAME.key (0600); AlreadyExists-like
// InvalidArgument when either exists.
Status WriteIssued(const std::string& dir, const std::string& name, const PemPair& issued);
// Writes `contents` to `path`, created exclusively with `mode`.
Status WriteNewFile(const std::string& path, const std::string& contents, unsigned mode);

}  // namespace ringkv
