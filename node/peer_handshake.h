// PeerAuthenticator: the peer handshake's cryptography and checks
// (docs/security.md). A connection may carry peer messages only after its
// opener and its acceptor have each proved that they hold the cluster
// secret, over fresh nonces from both sides:
//
//   opener   -> acceptor  peerHello     {opener id, opener nonce}
//   acceptor -> opener    peerChallenge {acceptor id, acceptor nonce,
//                                        HMAC(secret, "acceptor" | ids | nonces)}
//   opener   -> acceptor  peerProof     {HMAC(secret, "opener" | ids | nonces)}
//
// Each side proves itself over the other's fresh nonce, so a recorded proof
// is worthless on another connection; the two labels keep a proof from being
// reflected back to the side that asked. Both ids must be current members,
// and the acceptor must be the node the opener dialled. HMAC-SHA256 and
// nonces come from OpenSSL's libcrypto; proofs are compared in constant time.
//
// Stateless apart from its configuration; const methods are thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "common/status.h"
#include "common/transport.h"
#include "proto/messages.h"

namespace ringkv {

class PeerAuthenticator {
 public:
  static constexpr size_t kNonceBytes = 32;
  static constexpr size_t kProofBytes = 32;

  // `secret`: the cluster secret (node/cluster_secret.h). `is_member`
  // answers for the current ring, so a removed member fails its next
  // handshake.
  PeerAuthenticator(NodeId self, std::string secret,
                    std::function<bool(const NodeId&)> is_member);

  const NodeId& self() const { return self_; }
  bool IsMember(const NodeId& node) const { return node != self_ && is_member_(node); }

  // The opener's side of one connection to `peer`.
  struct Opening {
    NodeId peer;
    std::string nonce;
  };
  Result<PeerHello> Hello(const NodeId& peer, Opening* opening) const;
  // Checks the acceptor's challenge and returns the opener's proof;
  // InvalidArgument says why the acceptor is not believed.
  Result<PeerProof> Answer(const Opening& opening, const PeerChallenge& challenge) const;

  // The acceptor's side of one connection.
  struct Accepting {
    NodeId opener;
    std::string opener_nonce;
    std::string nonce;
  };
  // InvalidArgument for a malformed hello or an opener that is not a member.
  Result<PeerChallenge> Challenge(const PeerHello& hello, Accepting* accepting) const;
  // OK when the proof shows the opener holds the secret.
  Status Verify(const Accepting& accepting, const PeerProof& proof) const;

 private:
  std::string Proof(const char* label, const NodeId& opener, const NodeId& acceptor,
                    const std::string& opener_nonce, const std::string& acceptor_nonce) const;

  NodeId self_;
  std::string secret_;
  std::function<bool(const NodeId&)> is_member_;
};

}  // namespace ringkv
