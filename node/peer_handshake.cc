#include "node/peer_handshake.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdint>
#include <utility>

namespace ringkv {
namespace {

constexpr const char* kAcceptorLabel = "ringkv peer acceptor v1";
constexpr const char* kOpenerLabel = "ringkv peer opener v1";

void AppendField(const std::string& field, std::string* out) {
  const uint32_t n = static_cast<uint32_t>(field.size());
  for (int shift = 0; shift < 32; shift += 8) out->push_back(static_cast<char>(n >> shift));
  out->append(field);
}

bool SameBytes(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::string> Nonce() {
  std::string nonce(PeerAuthenticator::kNonceBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()),
                 static_cast<int>(nonce.size())) != 1) {
    return Status::Internal("no random bytes for a handshake nonce");
  }
  return nonce;
}

}  // namespace

PeerAuthenticator::PeerAuthenticator(NodeId self, std::string secret,
                                     std::function<bool(const NodeId&)> is_member)
    : self_(std::move(self)), secret_(std::move(secret)), is_member_(std::move(is_member)) {}

std::string PeerAuthenticator::Proof(const char* label, const NodeId& opener,
                                     const NodeId& acceptor, const std::string& opener_nonce,
                                     const std::string& acceptor_nonce) const {
  // Every field is length-prefixed, so no two different inputs share bytes.
  std::string input(label);
  input.push_back('\0');
  AppendField(opener, &input);
  AppendField(acceptor, &input);
  AppendField(opener_nonce, &input);
  AppendField(acceptor_nonce, &input);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

Result<PeerHello> PeerAuthenticator::Hello(const NodeId& peer, Opening* opening) const {
  Result<std::string> nonce = Nonce();
  if (!nonce.ok()) return nonce.status();
  opening->peer = peer;
  opening->nonce = *nonce;
  return PeerHello{self_, std::move(nonce).value()};
}

Result<PeerProof> PeerAuthenticator::Answer(const Opening& opening,
                                            const PeerChallenge& challenge) const {
  if (challenge.node != opening.peer) {
    return Status::InvalidArgument("dialled " + opening.peer + " but the node there is '" +
                                   challenge.node + "'");
  }
  if (challenge.nonce.size() != kNonceBytes) {
    return Status::InvalidArgument("challenge nonce of " + std::to_string(challenge.nonce.size()) +
                                   " bytes, not " + std::to_string(kNonceBytes));
  }
  if (!SameBytes(challenge.proof,
                 Proof(kAcceptorLabel, self_, opening.peer, opening.nonce, challenge.nonce))) {
    return Status::InvalidArgument(opening.peer +
                                   "'s proof does not match: it does not hold this "
                                   "cluster's secret");
  }
  return PeerProof{Proof(kOpenerLabel, self_, opening.peer, opening.nonce, challenge.nonce)};
}

Result<PeerChallenge> PeerAuthenticator::Challenge(const PeerHello& hello,
                                                   Accepting* accepting) const {
  if (hello.nonce.size() != kNonceBytes) {
    return Status::InvalidArgument("hello nonce of " + std::to_string(hello.nonce.size()) +
                                   " bytes, not " + std::to_string(kNonceBytes));
  }
  if (!IsMember(hello.node)) {
    return Status::InvalidArgument("'" + hello.node + "' is not a member of this cluster");
  }
  Result<std::string> nonce = Nonce();
  if (!nonce.ok()) return nonce.status();
  accepting->opener = hello.node;
  accepting->opener_nonce = hello.nonce;
  accepting->nonce = *nonce;
  return PeerChallenge{self_, *nonce,
                       Proof(kAcceptorLabel, hello.node, self_, hello.nonce, *nonce)};
}

Status PeerAuthenticator::Verify(const Accepting& accepting, const PeerProof& proof) const {
  if (!IsMember(accepting.opener)) {
    return Status::InvalidArgument("'" + accepting.opener + "' is no longer a member");
  }
  if (!SameBytes(proof.proof, Proof(kOpenerLabel, accepting.opener, self_,
                                    accepting.opener_nonce, accepting.nonce))) {
    return Status::InvalidArgument("proof from '" + accepting.opener +
                                   "' does not match: it does not hold this cluster's secret");
  }
  return Status::OK();
}

}  // namespace ringkv
