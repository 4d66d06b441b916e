// ringkv-admin: operator commands against one node. `status` prints that
// node's view: its id and incarnation, each peer up or down with phi (the
// gossip failure detector), its pending hints per target and how many it has
// delivered, and with --metrics (always with --json) every series of its
// metrics registry (docs/metrics.md); `ring` prints its ring (owners,
// balance, violations); `aae` drives anti-entropy (tools/admin_aae.h). `cert init-ca` and
// `cert issue` make the cluster CA and the certificates it signs, `token
// create` a client token for nodes started with --client-tokens
// (docs/security.md). Command-line contract: docs/cli.md.
//
// Exit status, as for `ringkv`: 0 success, 2 usage or bad input,
// 3 unavailable (node unreachable or no answer by the deadline), 4 any other
// error; on failure one line on stderr says why.
#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "client/client.h"
#include "client/node_connection.h"
#include "common/host_port.h"
#include "common/tls.h"
#include "node/client_tokens.h"
#include "tools/admin_aae.h"
#include "tools/admin_ring.h"
#include "tools/admin_ring_changes.h"
#include "tools/certificates.h"
#include "tools/credential_flags.h"
#include "tools/exit_codes.h"

namespace ringkv {
namespace {

int Fail(const Status& status) {
  std::cerr << "ringkv-admin: " << status.ToString() << "\n";
  // Exit 1 means a missing key, which ringkv-admin never reads.
  return status.IsNotFound() ? kExitOther : ExitCodeFor(status);
}

struct Flags {
  std::string node = "127.0.0.1:7101";
  uint32_t timeout_ms = 5000;
  bool json = false;
  bool metrics = false;
  CredentialFlags credentials;
  // cert
  std::string ca_dir = "ringkv-ca";
  std::string out_dir;  // default: ca_dir
  std::string name;
  bool client_cert = false;
  std::vector<std::string> hosts;
  int days = 0;  // 0: the command's default
  // token
  std::vector<std::string> grants;
  std::string token_file;
};

// Quantiles the status shows for each histogram.
constexpr double kQuantiles[] = {0.5, 0.9, 0.99};

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, v);
  return buf;
}

uint64_t PendingHints(const NodeView& s) {
  uint64_t total = 0;
  for (const HintBacklog& h : s.hints) total += h.count;
  return total;
}

// {"op": "get", ...}: label names are unique within a series.
nlohmann::json LabelsJson(const MetricLabels& labels) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : labels) out[name] = value;
  return out;
}

// "p50", "p99", "p99.9".
std::string QuantileName(double q) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "p%g", q * 100);
  return buf;
}

nlohmann::json MetricsJson(const std::vector<MetricSample>& samples) {
  nlohmann::json out = nlohmann::json::array();
  for (const MetricSample& m : samples) {
    nlohmann::json j = {{"name", m.name},
                        {"type", std::string(MetricTypeName(m.type))},
                        {"help", m.help},
                        {"labels", LabelsJson(m.labels)}};
    switch (m.type) {
      case MetricType::kCounter:
        // Exact as an integer; a counter is a whole number.
        j["value"] = static_cast<uint64_t>(m.value);
        break;
      case MetricType::kGauge:
        j["value"] = std::isfinite(m.value) ? nlohmann::json(m.value) : nlohmann::json();
        break;
      case MetricType::kHistogram: {
        j["count"] = m.count;
        j["sum"] = m.sum;
        nlohmann::json buckets = nlohmann::json::array();
        for (const HistogramBucket& b : m.buckets) {
          buckets.push_back({{"le", b.upper_bound}, {"count", b.cumulative_count}});
        }
        j["buckets"] = buckets;
        for (double q : kQuantiles) j[QuantileName(q)] = HistogramQuantile(m, q);
        break;
      }
    }
    out.push_back(std::move(j));
  }
  return out;
}

// Hints that cannot be delivered as they are (docs/hinted-handoff.md,
// "Parked hints"); 0 from nodes that do not count them.
uint64_t ParkedHints(const NodeView& s) {
  for (const MetricSample& m : s.metrics) {
    if (m.name == "ringkv_hints_parked") return static_cast<uint64_t>(m.value);
  }
  return 0;
}

void PrintJson(const NodeView& s) {
  nlohmann::json peers = nlohmann::json::array();
  for (const PeerView& p : s.peers) {
    // phi is infinite for a peer never heard from; JSON has no infinity.
    peers.push_back({{"node", p.node},
                     {"up", p.up},
                     {"phi", std::isfinite(p.phi) ? nlohmann::json(p.phi) : nlohmann::json()}});
  }
  nlohmann::json hints = nlohmann::json::array();
  for (const HintBacklog& h : s.hints) hints.push_back({{"target", h.target}, {"count", h.count}});
  nlohmann::json out = {{"node", s.node},
                        {"incarnation", Hex(s.incarnation)},
                        {"ring_epoch", s.ring_epoch},
                        {"peers", peers},
                        {"hints", hints},
                        {"hints_pending", PendingHints(s)},
                        {"hints_delivered", s.hints_delivered},
                        {"hint_write_failures", s.hint_write_failures},
                        {"hints_parked", ParkedHints(s)},
                        {"metrics", MetricsJson(s.metrics)}};
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

void PrintText(const NodeView& s) {
  std::printf("node %s  incarnation %s  ring epoch %" PRIu64 "\n", s.node.c_str(),
              Hex(s.incarnation).c_str(), s.ring_epoch);
  std::printf("peers (%zu):\n", s.peers.size());
  for (const PeerView& p : s.peers) {
    std::printf("  %-8s %-4s phi %.2f\n", p.node.c_str(), p.up ? "up" : "down", p.phi);
  }
  std::printf("hints pending: %" PRIu64 "\n", PendingHints(s));
  for (const HintBacklog& h : s.hints) {
    std::printf("  for %-8s %" PRIu64 "\n", h.target.c_str(), h.count);
  }
  std::printf("hints delivered: %" PRIu64 "\n", s.hints_delivered);
  std::printf("hint write failures: %" PRIu64 "\n", s.hint_write_failures);
  std::printf("hints parked: %" PRIu64 "\n", ParkedHints(s));
}

// name{label="value",...} as Prometheus writes a series.
std::string SeriesName(const MetricSample& m) {
  std::string out = m.name;
  if (m.labels.empty()) return out;
  out += '{';
  for (size_t i = 0; i < m.labels.size(); ++i) {
    if (i > 0) out += ',';
    out += m.labels[i].first + "=\"" + m.labels[i].second + '"';
  }
  out += '}';
  return out;
}

// Whole numbers in full (byte counts), the rest to 6 significant digits.
std::string FormatNumber(double v) {
  char buf[32];
  if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < 0x1p53) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%g", v);
  }
  return buf;
}

void PrintMetrics(const NodeView& s) {
  std::printf("metrics (%zu):\n", s.metrics.size());
  for (const MetricSample& m : s.metrics) {
    const std::string series = SeriesName(m);
    switch (m.type) {
      case MetricType::kCounter:
      case MetricType::kGauge:
        std::printf("  %s %s\n", series.c_str(), FormatNumber(m.value).c_str());
        break;
      case MetricType::kHistogram:
        std::printf("  %s count %" PRIu64 " sum %s", series.c_str(), m.count,
                    FormatNumber(m.sum).c_str());
        for (double q : kQuantiles) {
          std::printf(" %s %s", QuantileName(q).c_str(),
                      FormatNumber(HistogramQuantile(m, q)).c_str());
        }
        std::printf("\n");
        break;
    }
  }
}

// A client of the node at --node alone.
Result<std::unique_ptr<Client>> ClientOf(const Flags& flags) {
  Result<HostPort> address = ParseHostPort(flags.node);
  if (!address.ok()) return Status::InvalidArgument("--node: " + address.status().message());
  if (flags.timeout_ms == 0) return Status::InvalidArgument("--timeout must be positive");
  ClientOptions options;
  options.nodes = {flags.node};
  options.timeout_ms = flags.timeout_ms;
  if (Status st = ApplyCredentials(flags.credentials, &options); !st.ok()) return st;
  return Client::Connect(options);
}

// `plugins`: the node's merge plugins, from the info gauges of its status
// (docs/plugins.md): one line per plugin, "name version sha256 buckets",
// then one per refused plugin, "refused path: reason", then one per bucket
// naming a plugin the node lacks, "missing bucket: resolver ...".
int DoPlugins(const Flags& flags) {
  Result<std::unique_ptr<Client>> client = ClientOf(flags);
  if (!client.ok()) return Fail(client.status());
  Result<NodeView> status = (*client)->StatusOf(flags.node);
  if (!status.ok()) return Fail(status.status());
  auto label = [](const MetricSample& m, const std::string& name) {
    for (const auto& [k, v] : m.labels) {
      if (k == name) return v;
    }
    return std::string();
  };
  nlohmann::json loaded = nlohmann::json::array(), refused = nlohmann::json::array(),
                 missing = nlohmann::json::array();
  for (const MetricSample& m : status->metrics) {
    if (m.name == "ringkv_merge_plugin_info") {
      nlohmann::json buckets = nlohmann::json::array();
      const std::string users = label(m, "buckets");
      for (size_t start = 0; start < users.size();) {
        const size_t comma = std::min(users.find(',', start), users.size());
        buckets.push_back(users.substr(start, comma - start));
        start = comma + 1;
      }
      loaded.push_back({{"name", label(m, "plugin")},
                        {"version", std::stoul(label(m, "version"))},
                        {"sha256", label(m, "sha256")},
                        {"path", label(m, "path")},
                        {"buckets", buckets},
                        {"mode", label(m, "mode")}});
    } else if (m.name == "ringkv_merge_plugin_refused") {
      refused.push_back({{"path", label(m, "path")}, {"reason", label(m, "reason")}});
    } else if (m.name == "ringkv_merge_plugin_missing") {
      missing.push_back({{"bucket", label(m, "bucket")},
                         {"resolver", label(m, "resolver")},
                         {"plugin_version", std::stoul(label(m, "plugin_version"))},
                         {"plugin_hash", label(m, "plugin_hash")}});
    }
  }
  if (flags.json) {
    std::cout << nlohmann::json{{"plugins", loaded}, {"refused", refused}, {"missing", missing}}
                     .dump()
              << "\n";
    return kExitOk;
  }
  for (const auto& p : loaded) {
    std::string buckets;
    for (const auto& b : p["buckets"]) buckets += (buckets.empty() ? "" : ",") + b.get<std::string>();
    std::printf("%-12s %-4u %s %s\n", p["name"].get<std::string>().c_str(),
                p["version"].get<unsigned>(), p["sha256"].get<std::string>().c_str(),
                buckets.empty() ? "-" : buckets.c_str());
  }
  for (const auto& r : refused) {
    std::printf("refused %s: %s\n", r["path"].get<std::string>().c_str(),
                r["reason"].get<std::string>().c_str());
  }
  for (const auto& m : missing) {
    const bool pinned = m["plugin_version"].get<unsigned long>() != 0 ||
                        !m["plugin_hash"].get<std::string>().empty();
    std::printf("missing %s: %s is not loaded on this node%s; its siblings are kept unmerged\n",
                m["bucket"].get<std::string>().c_str(), m["resolver"].get<std::string>().c_str(),
                pinned ? " in the pinned version and hash" : "");
  }
  return kExitOk;
}

int DoStatus(const Flags& flags) {
  Result<std::unique_ptr<Client>> client = ClientOf(flags);
  if (!client.ok()) return Fail(client.status());
  Result<NodeView> status = (*client)->StatusOf(flags.node);
  if (!status.ok()) return Fail(status.status());
  if (flags.json) {
    PrintJson(*status);
  } else {
    PrintText(*status);
    if (flags.metrics) PrintMetrics(*status);
  }
  return kExitOk;
}

int DoRing(const Flags& flags) {
  Result<std::unique_ptr<Client>> client = ClientOf(flags);
  if (!client.ok()) return Fail(client.status());
  Result<RingView> ring = (*client)->RingOf(flags.node);
  if (!ring.ok()) return Fail(ring.status());
  if (flags.json) {
    PrintRingJson(*ring);
  } else {
    PrintRingText(*ring);
  }
  return kExitOk;
}

int DoInitCa(const Flags& flags) {
  std::error_code ec;
  std::filesystem::create_directories(flags.ca_dir, ec);
  if (ec) return Fail(Status::IOError("cannot create " + flags.ca_dir + ": " + ec.message()));
  Result<PemPair> ca = NewCertificateAuthority("ringkv cluster CA", flags.days > 0 ? flags.days
                                                                                  : 3650);
  if (!ca.ok()) return Fail(ca.status());
  if (Status st = WriteCertificateAuthority(flags.ca_dir, *ca); !st.ok()) return Fail(st);
  std::cout << flags.ca_dir << "/ca.crt\n" << flags.ca_dir << "/ca.key\n";
  return kExitOk;
}

int DoIssue(const Flags& flags) {
  Result<PemPair> ca = ReadCertificateAuthority(flags.ca_dir);
  if (!ca.ok()) {
    return Fail(Status::InvalidArgument("no CA in " + flags.ca_dir + " (ringkv-admin cert "
                                        "init-ca --dir " + flags.ca_dir + "): " +
                                        ca.status().message()));
  }
  CertificateRequest request;
  request.kind =
      flags.client_cert ? CertificateRequest::Kind::kClient : CertificateRequest::Kind::kNode;
  request.name = flags.name;
  request.hosts = flags.hosts;
  request.not_after_s = int64_t{flags.days > 0 ? flags.days : 365} * 86400;
  Result<PemPair> issued = IssueCertificate(*ca, request);
  if (!issued.ok()) return Fail(issued.status());
  const std::string out = flags.out_dir.empty() ? flags.ca_dir : flags.out_dir;
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) return Fail(Status::IOError("cannot create " + out + ": " + ec.message()));
  if (Status st = WriteIssued(out, flags.name, *issued); !st.ok()) return Fail(st);
  std::cout << out << "/" << flags.name << ".crt\n" << out << "/" << flags.name << ".key\n";
  return kExitOk;
}

// A new random token (32 bytes in hex, "rkv_" first so that it is
// recognisable in a leak scan); its SHA-256 line goes into the file the
// nodes read, the token itself only to stdout.
int DoTokenCreate(const Flags& flags) {
  for (const std::string& grant : flags.grants) {
    if (Status st = CheckGrant(grant); !st.ok()) return Fail(st);
  }
  for (char c : flags.name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return Fail(Status::InvalidArgument("token name '" + flags.name +
                                          "': letters, digits, '.', '_' or '-' only"));
    }
  }
  unsigned char random[32];
  if (RAND_bytes(random, sizeof(random)) != 1) {
    return Fail(Status::Internal("no random bytes for a token"));
  }
  std::string token = "rkv_";
  for (unsigned char b : random) token += Hex(b).substr(14);
  std::string grants;
  for (const std::string& grant : flags.grants) grants += (grants.empty() ? "" : ",") + grant;
  const std::string line = TokenHash(token) + " " + flags.name + " " + grants + "\n";
  const int fd = ::open(flags.token_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    if (fd >= 0) ::close(fd);
    return Fail(Status::IOError("cannot append to " + flags.token_file + ": " +
                                std::strerror(errno)));
  }
  ::close(fd);
  std::cout << token << "\n";
  return kExitOk;
}

// One request to the node at --node and its reply body; anti-entropy's
// requests go to that node only.
Result<MessageBody> AskNode(const Flags& flags, MessageBody body) {
  Result<HostPort> address = ParseHostPort(flags.node);
  if (!address.ok()) return Status::InvalidArgument("--node: " + address.status().message());
  if (flags.timeout_ms == 0) return Status::InvalidArgument("--timeout must be positive");
  const Deadline deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(flags.timeout_ms);
  ClientOptions options;
  RINGKV_RETURN_IF_ERROR(ApplyCredentials(flags.credentials, &options));
  std::shared_ptr<TlsContext> tls;
  if (!options.tls.ca.empty()) {
    Result<std::shared_ptr<TlsContext>> ctx =
        TlsContext::ForClient(TlsFiles{options.tls.ca, options.tls.cert, options.tls.key});
    if (!ctx.ok()) return Status::InvalidArgument("TLS: " + ctx.status().message());
    tls = *ctx;
  }
  NodeConnection conn(flags.node, tls.get());
  Message request;
  request.request_id = 1;
  request.auth_token = options.token;
  request.timeout_ms = flags.timeout_ms;
  request.body = std::move(body);
  Result<Message> reply = conn.Call(request, deadline);
  if (!reply.ok()) return reply.status();
  if (auto* error = std::get_if<ErrorReply>(&reply->body)) return error->status;
  return std::move(reply->body);
}

}  // namespace
}  // namespace ringkv

int main(int argc, char** argv) {
  using namespace ringkv;
  Flags flags;
  CLI::App app{"ringkv-admin: inspect a ringkv node"};
  app.require_subcommand(1, 1);
  // Global options may also follow the subcommand.
  app.fallthrough();
  app.add_option("--node", flags.node, "node to ask, HOST:PORT")->capture_default_str();
  app.add_option("--timeout", flags.timeout_ms, "request deadline in milliseconds")
      ->capture_default_str();
  AddCredentialFlags(&app, &flags.credentials);
  CLI::App* status = app.add_subcommand(
      "status", "the node's view: peers up/down with phi, pending hints per target");
  status->add_flag("--json", flags.json,
                   "print {node, incarnation, ring_epoch, peers: [{node, up, phi}], "
                   "hints: [{target, count}], hints_pending, hints_delivered, hint_write_failures, "
                   "metrics: [{name, type, help, labels, value | count, sum, buckets, p50, p90, "
                   "p99}]}");
  status->add_flag("--metrics", flags.metrics,
                   "also print every metric of the node (docs/metrics.md), one series a line");
  CLI::App* plugins = app.add_subcommand(
      "plugins", "the node's merge plugins: name, version, sha256, buckets using it; refusals; "
                 "buckets naming a plugin the node lacks");
  plugins->add_flag("--json", flags.json,
                    "print {plugins: [{name, version, sha256, path, buckets: [..], mode}], "
                    "refused: [{path, reason}], missing: [{bucket, resolver, plugin_version, "
                    "plugin_hash}]}");
  CLI::App* ring = app.add_subcommand(
      "ring", "the node's ring: partitions per member, balance, placement violations, owners");
  ring->add_flag("--json", flags.json,
                 "print {epoch, partitions, n, members: [{node, address, partitions}], "
                 "balance: {min, max}, violations, owners: [node of partition 0, 1, ...]}");
  RingChangeCommands ring_changes(&app, ring, &flags.node, &flags.timeout_ms, &flags.credentials);
  CLI::App* cert = app.add_subcommand("cert", "the cluster CA and its certificates");
  cert->require_subcommand(1, 1);
  CLI::App* init_ca = cert->add_subcommand(
      "init-ca", "make a CA: DIR/ca.crt and DIR/ca.key (0600); never replaces one");
  CLI::App* issue = cert->add_subcommand(
      "issue", "sign a certificate for node NAME (or a client, --client): DIR/NAME.crt, "
               "DIR/NAME.key (0600)");
  for (CLI::App* cmd : {init_ca, issue}) {
    cmd->add_option("--dir", flags.ca_dir, "the CA's directory")->capture_default_str();
    cmd->add_option("--days", flags.days, "validity in days (CA 3650, certificates 365)")
        ->check(CLI::Range(1, 36500));
  }
  issue->add_option("NAME", flags.name, "node id (n1) or, with --client, a client name")
      ->required();
  issue->add_flag("--client", flags.client_cert,
                  "a client certificate (urn:ringkv:client:NAME) instead of a node's");
  issue->add_option("--host", flags.hosts,
                    "a host name or IP address the certificate is also valid for (repeatable)");
  issue->add_option("--out", flags.out_dir, "write the files here instead of --dir");
  CLI::App* token = app.add_subcommand("token", "client tokens (docs/security.md)");
  token->require_subcommand(1, 1);
  CLI::App* create = token->add_subcommand(
      "create", "make a token NAME with the given grants: prints the token, appends its "
                "SHA-256 to --file (the file ringkv-node --client-tokens reads)");
  create->add_option("NAME", flags.name, "who the token is for (in refusals and logs)")
      ->required();
  create->add_option("--grant", flags.grants,
                     "kv.get:BUCKET, kv.put:BUCKET, kv.delete:BUCKET (BUCKET may be *) or "
                     "cluster.admin; repeatable")
      ->required();
  create->add_option("--file", flags.token_file, "the token file (created 0600)")->required();
  AaeCommands aae(&app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (status->parsed()) return DoStatus(flags);
  if (plugins->parsed()) return DoPlugins(flags);
  if (ring_changes.Parsed()) return ring_changes.Run();
  if (ring->parsed()) return DoRing(flags);
  if (init_ca->parsed()) return DoInitCa(flags);
  if (issue->parsed()) return DoIssue(flags);
  if (create->parsed()) return DoTokenCreate(flags);
  if (aae.parsed()) {
    return aae.Run([&flags](MessageBody body) { return AskNode(flags, std::move(body)); }, Fail);
  }
  return kExitUsage;
}
