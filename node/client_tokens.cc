#include "node/client_tokens.h"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace ringkv {
namespace {

constexpr const char* kPermissions[] = {"kv.get", "kv.put", "kv.delete"};

bool IsHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// (permission, bucket) of a checked grant.
std::pair<std::string, std::string> SplitGrant(const std::string& grant) {
  if (grant == "cluster.admin") return {grant, ""};
  const size_t colon = grant.find(':');
  return {grant.substr(0, colon), grant.substr(colon + 1)};
}

// What `request` needs: (permission, bucket); empty permission = nothing,
// "token" = any known token.
std::pair<std::string, std::string> Needs(const MessageBody& body) {
  if (std::holds_alternative<Ping>(body)) return {"", ""};
  if (const auto* get = std::get_if<GetRequest>(&body)) return {"kv.get", get->bucket};
  if (const auto* get = std::get_if<ReplicaGetRequest>(&body)) return {"kv.get", get->bucket};
  if (const auto* put = std::get_if<PutRequest>(&body)) {
    return {put->tombstone ? "kv.delete" : "kv.put", put->bucket};
  }
  if (std::holds_alternative<StatusRequest>(body) ||
      std::holds_alternative<AaeStatusRequest>(body) ||
      std::holds_alternative<AaeExchangeRequest>(body) ||
      std::holds_alternative<AaeReapNowRequest>(body)) {
    return {"cluster.admin", ""};
  }
  // The ring (members, buckets) and anything else a client may send.
  return {"token", ""};
}

}  // namespace

std::string TokenHash(const std::string& token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(token.data(), token.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

Status CheckGrant(const std::string& grant) {
  if (grant == "cluster.admin") return Status::OK();
  const size_t colon = grant.find(':');
  const std::string permission = grant.substr(0, colon);
  bool known = false;
  for (const char* p : kPermissions) known = known || permission == p;
  if (!known || colon == std::string::npos || colon + 1 == grant.size()) {
    return Status::InvalidArgument("'" + grant +
                                   "' is not a grant: kv.get:BUCKET, kv.put:BUCKET, "
                                   "kv.delete:BUCKET (BUCKET may be *) or cluster.admin");
  }
  return Status::OK();
}

Result<ClientTokens> ClientTokens::Load(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::InvalidArgument("cannot read the client token file " + path);
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    return Status::InvalidArgument("client token file " + path +
                                   ": group and others must not be able to write it");
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Status::InvalidArgument("cannot read the client token file " + path);
  return Parse(text.str(), path);
}

Result<ClientTokens> ClientTokens::Parse(const std::string& text, const std::string& origin) {
  ClientTokens tokens;
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    const std::string where = origin + ":" + std::to_string(number) + ": ";
    std::istringstream fields(line);
    std::string hash, name, grants, extra;
    if (!(fields >> hash) || hash[0] == '#') continue;
    if (!IsHex64(hash)) {
      return Status::InvalidArgument(where + "expected the SHA-256 of a token, 64 lower-case "
                                             "hex digits");
    }
    if (!(fields >> name >> grants) || (fields >> extra)) {
      return Status::InvalidArgument(where + "expected HASH NAME GRANT[,GRANT...]");
    }
    Entry entry{name, {}};
    std::istringstream list(grants);
    std::string grant;
    while (std::getline(list, grant, ',')) {
      if (Status st = CheckGrant(grant); !st.ok()) {
        return Status::InvalidArgument(where + st.message());
      }
      entry.grants.insert(SplitGrant(grant));
    }
    if (!tokens.tokens_.emplace(hash, std::move(entry)).second) {
      return Status::InvalidArgument(where + "the same token twice");
    }
  }
  return tokens;
}

Status ClientTokens::Authorize(const Message& request) const {
  const auto [permission, bucket] = Needs(request.body);
  if (permission.empty()) return Status::OK();
  if (request.auth_token.empty()) {
    return Status::Unauthenticated("this node requires a client token (--token or "
                                   "RINGKV_TOKEN)");
  }
  auto it = tokens_.find(TokenHash(request.auth_token));
  if (it == tokens_.end()) return Status::Unauthenticated("the token is not known to this node");
  const Entry& entry = it->second;
  if (permission == "token" || entry.grants.count({permission, bucket}) > 0 ||
      (!bucket.empty() && entry.grants.count({permission, "*"}) > 0)) {
    return Status::OK();
  }
  return Status::Forbidden("token '" + entry.name + "' lacks " + permission +
                           (bucket.empty() ? "" : " on bucket '" + bucket + "'"));
}

}  // namespace ringkv
