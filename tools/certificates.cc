#include "tools/certificates.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "common/tls.h"

namespace ringkv {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Free>;
using CertPtr = std::unique_ptr<X509, Free>;
using BioPtr = std::unique_ptr<BIO, Free>;

Status Openssl(const std::string& what) {
  return Status::IOError(what + ": " + TakeTlsErrors());
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::pair<std::string, std::string>> ToPem(X509* cert, EVP_PKEY* key) {
  BioPtr cert_bio(BIO_new(BIO_s_mem())), key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Openssl("cannot write PEM");
  }
  return std::make_pair(BioText(cert_bio.get()), BioText(key_bio.get()));
}

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key` named `common_name`, valid in the given window,
// with a random serial; signed later.
CertPtr NewCertificate(EVP_PKEY* key, const std::string& common_name, int64_t not_before_s,
                       int64_t not_after_s) {
  CertPtr cert(X509_new());
  if (!cert) return nullptr;
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(not_before_s));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(not_after_s));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ringkv"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  return cert;
}

Result<KeyPtr> ReadKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Openssl("cannot read the CA key");
  return key;
}

Result<CertPtr> ReadCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  CertPtr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Openssl("cannot read the CA certificate");
  return cert;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path + ": " + std::strerror(errno));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Result<PemPair> NewCertificateAuthority(const std::string& name, int days) {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Openssl("cannot make a key");
  CertPtr cert = NewCertificate(key.get(), name, -300, int64_t{days} * 86400);
  if (!cert) return Openssl("cannot make a certificate");
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  if (!AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash") ||
      X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return Openssl("cannot sign the CA certificate");
  }
  Result<std::pair<std::string, std::string>> pem = ToPem(cert.get(), key.get());
  if (!pem.ok()) return pem.status();
  return PemPair{pem->first, pem->second};
}

Result<PemPair> IssueCertificate(const PemPair& ca, const CertificateRequest& request) {
  if (!ValidName(request.name)) {
    return Status::InvalidArgument("'" + request.name +
                                   "' is not a name for a certificate (1 to 64 letters, digits, "
                                   "'.', '_' or '-')");
  }
  Result<KeyPtr> ca_key = ReadKey(ca.key);
  if (!ca_key.ok()) return ca_key.status();
  Result<CertPtr> ca_cert = ReadCert(ca.cert);
  if (!ca_cert.ok()) return ca_cert.status();
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Openssl("cannot make a key");
  const bool node = request.kind == CertificateRequest::Kind::kNode;
  CertPtr cert = NewCertificate(key.get(), request.name, request.not_before_s,
                                request.not_after_s);
  if (!cert) return Openssl("cannot make a certificate");
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert->get()));
  std::string san = std::string("URI:") + (node ? kNodeUriPrefix : kClientUriPrefix) +
                    request.name;
  for (const std::string& host : request.hosts) {
    unsigned char buf[16];
    const bool ip = inet_pton(AF_INET, host.c_str(), buf) == 1 ||
                    inet_pton(AF_INET6, host.c_str(), buf) == 1;
    san += (ip ? ",IP:" : ",DNS:") + host;
  }
  // A node's certificate serves both ends of peer connections; a client's
  // only the connecting one.
  if (!AddExtension(cert.get(), ca_cert->get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExtension(cert.get(), ca_cert->get(), NID_key_usage, "critical,digitalSignature") ||
      !AddExtension(cert.get(), ca_cert->get(), NID_ext_key_usage,
                    node ? "serverAuth,clientAuth" : "clientAuth") ||
      !AddExtension(cert.get(), ca_cert->get(), NID_subject_alt_name, san) ||
      !AddExtension(cert.get(), ca_cert->get(), NID_authority_key_identifier, "keyid") ||
      X509_sign(cert.get(), ca_key->get(), EVP_sha256()) == 0) {
    return Openssl("cannot sign the certificate of " + request.name);
  }
  Result<std::pair<std::string, std::string>> pem = ToPem(cert.get(), key.get());
  if (!pem.ok()) return pem.status();
  return PemPair{pem->first, pem->second};
}

Status WriteNewFile(const std::string& path, const std::string& contents, unsigned mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return errno == EEXIST
               ? Status::InvalidArgument(path + " exists; remove it first to replace it")
               : Status::IOError("cannot create " + path + ": " + std::strerror(errno));
  }
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      return Status::IOError("cannot write " + path + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return Status::OK();
}

Status WriteCertificateAuthority(const std::string& dir, const PemPair& ca) {
  RINGKV_RETURN_IF_ERROR(WriteNewFile(dir + "/ca.key", ca.key, 0600));
  return WriteNewFile(dir + "/ca.crt", ca.cert, 0644);
}

Result<PemPair> ReadCertificateAuthority(const std::string& dir) {
  Result<std::string> cert = ReadWholeFile(dir + "/ca.crt");
  if (!cert.ok()) return cert.status();
  Result<std::string> key = ReadWholeFile(dir + "/ca.key");
  if (!key.ok()) return key.status();
  return PemPair{*cert, *key};
}

Status WriteIssued(const std::string& dir, const std::string& name, const PemPair& issued) {
  RINGKV_RETURN_IF_ERROR(WriteNewFile(dir + "/" + name + ".key", issued.key, 0600));
  return WriteNewFile(dir + "/" + name + ".crt", issued.cert, 0644);
}

}  // namespace ringkv
