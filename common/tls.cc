#include "common/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace ringkv {
namespace {

Result<SSL_CTX*> NewContext(const SSL_METHOD* method, const TlsFiles& files) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (ctx == nullptr) return Status::IOError("cannot create a TLS context: " + TakeTlsErrors());
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  // Partial writes and a moved buffer on retry: the server hands OpenSSL
  // whatever its buffer holds at the time.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  auto fail = [ctx](const std::string& what) -> Result<SSL_CTX*> {
    SSL_CTX_free(ctx);
    return Status::InvalidArgument(what + ": " + TakeTlsErrors());
  };
  if (files.ca.empty()) return fail("no CA certificate file given");
  if (SSL_CTX_load_verify_locations(ctx, files.ca.c_str(), nullptr) != 1) {
    return fail("cannot load the CA certificate " + files.ca);
  }
  if (files.cert.empty() != files.key.empty()) {
    return fail("a certificate needs its key and a key its certificate");
  }
  if (!files.cert.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, files.cert.c_str()) != 1) {
      return fail("cannot load the certificate " + files.cert);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return fail("cannot load the private key " + files.key);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return fail("the key " + files.key + " does not belong to " + files.cert);
    }
  }
  return ctx;
}

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::ForServer(const TlsFiles& files,
                                                          bool require_peer_cert) {
  if (files.cert.empty()) return Status::InvalidArgument("a TLS server needs a certificate");
  Result<SSL_CTX*> ctx = NewContext(TLS_server_method(), files);
  if (!ctx.ok()) return ctx.status();
  SSL_CTX_set_verify(*ctx,
                     SSL_VERIFY_PEER | (require_peer_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                     nullptr);
  // Tells the other end which CA to pick a certificate from.
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.ca.c_str())) {
    SSL_CTX_set_client_CA_list(*ctx, names);
  }
  // No session tickets: resumption would skip the certificate check that
  // membership is decided on, and saves nothing on long-lived connections.
  SSL_CTX_set_num_tickets(*ctx, 0);
  SSL_CTX_set_session_cache_mode(*ctx, SSL_SESS_CACHE_OFF);
  return std::shared_ptr<TlsContext>(new TlsContext(*ctx));
}

Result<std::shared_ptr<TlsContext>> TlsContext::ForClient(const TlsFiles& files) {
  Result<SSL_CTX*> ctx = NewContext(TLS_client_method(), files);
  if (!ctx.ok()) return ctx.status();
  SSL_CTX_set_verify(*ctx, SSL_VERIFY_PEER, nullptr);
  return std::shared_ptr<TlsContext>(new TlsContext(*ctx));
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

SSL* TlsContext::NewSsl() const { return SSL_new(ctx_); }

std::string CertificateNodeId(X509* cert) {
  if (cert == nullptr) return "";
  std::string id;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return "";
  const std::string prefix = kNodeUriPrefix;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && id.empty(); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                     static_cast<size_t>(ASN1_STRING_length(uri)));
    if (text.size() > prefix.size() && text.compare(0, prefix.size(), prefix) == 0) {
      id = text.substr(prefix.size());
    }
  }
  GENERAL_NAMES_free(names);
  return id;
}

std::string PeerNodeId(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  std::string id = CertificateNodeId(cert);
  X509_free(cert);
  return id;
}

std::string JoinTlsErrors(const std::function<unsigned long()>& next_error) {
  std::string all;
  while (unsigned long err = next_error()) {
    // libevent adds the errno of a failed socket call as an error of no
    // library; the caller reports the socket's error itself.
    if (ERR_GET_LIB(err) == 0) continue;
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    if (!all.empty()) all += "; ";
    all += buf;
  }
  return all;
}

std::string TakeTlsErrors(const std::string& fallback) {
  std::string all;
  while (unsigned long err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    if (!all.empty()) all += "; ";
    all += buf;
  }
  return all.empty() ? fallback : all;
}

}  // namespace ringkv
