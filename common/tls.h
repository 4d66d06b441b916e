// TLS 1.3 contexts for ringkv connections (docs/security.md, "TLS"), shared
// by the node's server and peer transport and by the client library.
//
// A cluster has its own CA (ringkv-admin cert init-ca). A node's
// certificate names the node in a subjectAltName URI "urn:ringkv:node:ID"
// (its common name is the id too, for people); a client's, when clients
// present one, "urn:ringkv:client:NAME". Whoever checks a certificate takes
// the node id from the URI only, so a client certificate can never pass as
// a node's. Only TLS 1.3 is offered or accepted.
//
// The contexts are immutable once made and may be shared by threads; the
// SSL objects made from them are not.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct x509_st X509;

namespace ringkv {

// The PEM files of one end. `cert` and `key` may be empty for a client that
// presents no certificate.
struct TlsFiles {
  std::string ca;
  std::string cert;
  std::string key;
};

// The URI prefix that marks a node's certificate, and a client's.
inline constexpr const char* kNodeUriPrefix = "urn:ringkv:node:";
inline constexpr const char* kClientUriPrefix = "urn:ringkv:client:";

class TlsContext {
 public:
  // The accepting side: presents `cert`, verifies any certificate the other
  // end presents against `ca`; with `require_peer_cert`, a connection that
  // presents none fails its handshake.
  static Result<std::shared_ptr<TlsContext>> ForServer(const TlsFiles& files,
                                                       bool require_peer_cert);
  // The connecting side: verifies the server's certificate against `ca`
  // (which node it names is the caller's to check), presents `cert` if given.
  static Result<std::shared_ptr<TlsContext>> ForClient(const TlsFiles& files);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }
  // A new SSL for one connection; null when OpenSSL is out of memory.
  SSL* NewSsl() const;

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

// The node id a certificate names (its "urn:ringkv:node:" URI), or "" when
// it names none (a client's certificate, or null).
std::string CertificateNodeId(X509* cert);
// The node id the other end of a finished handshake proved, or "".
std::string PeerNodeId(SSL* ssl);
// OpenSSL's queued errors for this thread as one line (and clears them);
// `fallback` when there are none.
std::string TakeTlsErrors(const std::string& fallback = "unknown TLS error");
// The OpenSSL errors a bufferevent_openssl collected, as one line ("" for
// none); it pulls them with bufferevent_get_openssl_error, given here so
// that this layer need not link libevent.
std::string JoinTlsErrors(const std::function<unsigned long()>& next_error);

}  // namespace ringkv
