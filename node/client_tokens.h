// ClientTokens: who may do what through a node that authenticates clients
// (ringkv-node --client-tokens FILE, docs/security.md "Client tokens").
//
// The file holds one token a line, never the token itself but its SHA-256:
//
//   # sha256-of-token (64 hex)  name   grants (comma-separated)
//   9f86d0...                   alice  kv.get:carts,kv.put:carts,kv.delete:carts
//   60303a...                   ops    cluster.admin,kv.get:*
//
// A grant is kv.get, kv.put or kv.delete on one bucket (":NAME") or all
// (":*"), or cluster.admin (the node's status). `ringkv-admin token create`
// writes such lines. Authorize() decides one client request: ping needs no
// token; get and client-coordinated replica reads need kv.get on the bucket,
// a put kv.put, a delete (a tombstone put) kv.delete, a status request and
// the anti-entropy status and exchange cluster.admin, anything else (the
// ring) any known token. Immutable after Load;
// thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>

#include "common/status.h"
#include "proto/messages.h"

namespace ringkv {

class ClientTokens {
 public:
  // Reads a token file. InvalidArgument naming the line for a malformed one
  // (a hash that is not 64 hex digits, an unknown grant, a duplicate hash),
  // or for a file group or others may write.
  static Result<ClientTokens> Load(const std::string& path);
  // Parses the text of a token file; `origin` names it in errors.
  static Result<ClientTokens> Parse(const std::string& text, const std::string& origin);

  // OK, Unauthenticated (no token, or one not in the file) or Forbidden
  // (the token's name and the grant it lacks in the message).
  Status Authorize(const Message& request) const;

  size_t size() const { return tokens_.size(); }

 private:
  struct Entry {
    std::string name;
    // (permission, bucket); bucket "*" for all buckets, "" for cluster.admin.
    std::set<std::pair<std::string, std::string>> grants;
  };
  std::map<std::string, Entry> tokens_;  // by the token's SHA-256, hex
};

// Lower-case hex SHA-256 of `token` (OpenSSL libcrypto).
std::string TokenHash(const std::string& token);
// InvalidArgument unless `grant` is one ClientTokens understands.
Status CheckGrant(const std::string& grant);

}  // namespace ringkv
