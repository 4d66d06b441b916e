// Resolver: how a bucket reconciles the states of one key that replicas
// hold. It has a name (what bucket properties, the cluster file and the wire
// carry) and operations used wherever states meet: a replica's merge,
// a coordinator's or a client's merge of read answers, read repair, hinted
// handoff and the coordinator's own write. Merge must be commutative,
// associative and idempotent up to one more exchange (docs/causality.md),
// so that replicas converge whatever order they meet in.
//
// Built in: "siblings" (Sync: concurrent writes stay as siblings, the
// default) and "lww" (MergeLww: the latest-stamped write); merge plugins
// (merge/) are more implementations, found through a ResolverCatalog. The
// built-ins are stateless and immutable: safe from any thread; a plugin's
// resolver belongs to its node's loop.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "causality/object.h"

namespace ringkv {

class Resolver {
 public:
  virtual ~Resolver() = default;
  virtual std::string_view Name() const = 0;
  // The merge of two states of one key.
  virtual Object Merge(const Object& a, const Object& b) const = 0;
  // One state as this resolver keeps it: a state arriving alone (the first
  // answer of a read, an object new to a replica).
  virtual Object Normalize(Object s) const = 0;
  // The state after the coordinator applied a client's write: `updated` is
  // update(local, ...) of causality.md; `local` what was stored before.
  virtual Object AfterUpdate(const Object* local, Object updated) const = 0;
  // What a read answers for the merge of the replicas' states. It is shown
  // to the client, never stored nor sent to a replica: only the write's
  // context goes back, so it may merge siblings a replica has to keep apart.
  virtual Object Answer(Object merged) const { return merged; }
};

// Resolvers beyond the built-ins (merge plugins, "merge:<name>"), found by
// name. A node's assembly hands one to its bucket table (replication/
// bucket.h); what it returns lives as long as the catalog.
class ResolverCatalog {
 public:
  virtual ~ResolverCatalog() = default;
  // The resolver called `name`, if its code is the pinned one: `version`
  // (0: any) and a SHA-256 starting with `sha256_prefix` (empty: any).
  virtual const Resolver* Find(std::string_view name, uint32_t version,
                               std::string_view sha256_prefix) const = 0;
};

// The built-in resolver called `name`, or null.
const Resolver* FindResolver(std::string_view name);
// The default, "siblings".
const Resolver& DefaultResolver();
// Every built-in resolver's name, for error messages and --help.
std::vector<std::string_view> ResolverNames();

}  // namespace ringkv
