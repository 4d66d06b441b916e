// ringkv-bench: a YCSB-style load generator for ringkv and, with the very
// same engine, Redis as a baseline. See docs/performance.md.
//
//   ringkv-bench --target ringkv://HOST:PORT[,HOST:PORT...]|http://HOST:PORT[,...]|redis://HOST:PORT
//     --workload a|b|c|d|f --records N (--duration S | --ops N) --concurrency C
//     [--rate OPS] [--value-size B] [--distribution uniform|zipfian|latest]
//     [--r R] [--w W] [--pr N] [--pw N] [--load] [--ping] [--client-reads] [--json FILE]
//     [--tls --tls-ca F [--tls-cert F --tls-key F]] [--token T | --token-file F]
//
// Exit status: 0 when the run completed (errors are counted, not fatal),
// 2 on bad usage, 3 when a target cannot be reached at the start.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "common/quorum.h"
#include "common/tls.h"
#include "tools/credential_flags.h"
#include "tools/bench/client_reads.h"
#include "tools/bench/http_protocol.h"
#include "tools/bench/process_cpu.h"
#include "tools/bench/redis_protocol.h"
#include "tools/bench/report.h"
#include "tools/bench/ringkv_protocol.h"
#include "tools/bench/runner.h"
#include "tools/bench/target.h"
#include "tools/bench/workload.h"

namespace ringkv::bench {
namespace {

void OnSignal(int) { RequestStop(); }

int Main(int argc, char** argv) {
  CLI::App app{"ringkv-bench: YCSB-style load generator for ringkv and Redis"};
  std::string target_text, workload_name = "a", distribution_name, json_path;
  std::string r_arg, w_arg, pr_arg, pw_arg, bucket = "bench";
  RunConfig config;
  bool load = false, ping = false, no_verify = false, quiet = false, client_reads = false;
  uint32_t timeout_ms = 0;

  app.add_option("--target", target_text,
                 "ringkv://HOST:PORT[,HOST:PORT...], http://HOST:PORT[,...] (the HTTP API) or redis://HOST:PORT")
      ->required();
  app.add_option("--workload", workload_name, "YCSB workload: a, b, c, d or f")
      ->check(CLI::IsMember({"a", "b", "c", "d", "f"}));
  bool read_modify_write = false;
  app.add_flag("--read-modify-write", read_modify_write,
               "updates read first and write with the read's context; a write that lands "
               "beside a concurrent one is resolved (read again, write), as Client::Update");
  app.add_option("--records", config.records, "records loaded (key space)")
      ->check(CLI::PositiveNumber);
  app.add_option("--value-size", config.value_size, "value size in bytes")
      ->check(CLI::PositiveNumber);
  auto* ops = app.add_option("--ops", config.ops, "measured operations (after warm-up)")
                  ->check(CLI::PositiveNumber);
  auto* duration = app.add_option("--duration", config.duration_s,
                                  "measured seconds (after warm-up); default 10")
                       ->check(CLI::PositiveNumber);
  ops->excludes(duration);
  app.add_option("--warmup", config.warmup_s, "seconds excluded from the figures")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--concurrency", config.concurrency, "requests in flight in total")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", config.threads, "event-loop threads")->check(CLI::PositiveNumber);
  app.add_option("--connections", config.connections,
                 "connections in total (default: one per request in flight; fewer "
                 "pipelines requests)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--rate", config.rate,
                 "open loop: target ops/s in total, latency from the intended send time "
                 "(0 = closed loop)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--distribution", distribution_name,
                 "uniform, zipfian or latest (default: the workload's)")
      ->check(CLI::IsMember({"uniform", "zipfian", "latest"}));
  app.add_option("--r", r_arg, "ringkv read quorum: number, one, quorum or all");
  app.add_option("--w", w_arg, "ringkv write quorum: number, one, quorum or all");
  app.add_option("--pr", pr_arg, "ringkv primary read quorum");
  app.add_option("--pw", pw_arg, "ringkv primary write quorum");
  app.add_option("--bucket", bucket, "ringkv bucket");
  app.add_option("--timeout-ms", timeout_ms, "ringkv per-request timeout (0 = node default)");
  app.add_option("--client-timeout", config.client_timeout_s,
                 "seconds after which an unanswered request fails its connection")
      ->check(CLI::PositiveNumber);
  app.add_flag("--load", load, "load phase: insert every record once, then exit");
  app.add_flag("--ping", ping, "measure the raw round trip of an empty request");
  app.add_flag("--client-reads", client_reads,
               "ringkv: serial reads coordinated by the client library (ReplicaGet to the "
               "key's replicas, done at R answers); needs --concurrency 1; with --ping, "
               "pings through the same serial client loop");
  app.add_flag("--no-verify", no_verify, "do not count reads that miss or return a wrong size");
  app.add_option("--seed", config.seed, "random seed");
  std::string server_pids;
  app.add_option("--server-pids", server_pids,
                 "PID[,PID...]: also report these processes' CPU per operation");
  app.add_option("--json", json_path, "also write the report as JSON to FILE");
  app.add_flag("--quiet", quiet, "no progress lines");
  CredentialFlags credentials;
  AddCredentialFlags(&app, &credentials);
  CLI11_PARSE(app, argc, argv);

  if (load && ping) {
    std::cerr << "ringkv-bench: --load and --ping exclude each other\n";
    return 2;
  }
  if (!server_pids.empty()) {
    Result<std::vector<int>> pids = ParsePidList(server_pids);
    if (pids.ok() && !ReadProcessCpu(*pids).ok()) {
      pids = Status::InvalidArgument("one of them is not a running process");
    }
    if (!pids.ok()) {
      std::cerr << "ringkv-bench: --server-pids: " << pids.status().message() << "\n";
      return 2;
    }
    config.server_pids = std::move(pids).value();
  }
  Result<Target> target = ParseTarget(target_text);
  if (!target.ok()) {
    std::cerr << "ringkv-bench: " << target.status().message() << "\n";
    return 2;
  }
  std::optional<Workload> workload = Workload::Named(workload_name[0]);
  if (!distribution_name.empty()) workload->distribution = *ParseDistribution(distribution_name);
  if (read_modify_write) {
    workload->read_modify_write += workload->update;
    workload->update = 0;
  }
  config.workload = *workload;
  config.endpoints = target->endpoints;
  config.phase = load ? RunConfig::Phase::kLoad
                      : (ping ? RunConfig::Phase::kPing : RunConfig::Phase::kRun);
  config.verify = !no_verify;
  config.progress = !quiet;

  if (client_reads && (load || target->kind != Target::Kind::kRingkv ||
                       config.concurrency != 1 || config.rate > 0)) {
    std::cerr << "ringkv-bench: --client-reads needs a ringkv:// target, a run or ping phase and "
                 "--concurrency 1 (closed loop)\n";
    return 2;
  }
  ClientOptions client_options;
  if (Status s = ApplyCredentials(credentials, &client_options); !s.ok()) {
    std::cerr << "ringkv-bench: " << s.message() << "\n";
    return 2;
  }
  const bool secured = !client_options.tls.ca.empty() || !client_options.token.empty();
  if (secured && target->kind != Target::Kind::kRingkv) {
    std::cerr << "ringkv-bench: TLS and tokens apply to ringkv:// targets only\n";
    return 2;
  }
  if (!client_options.tls.ca.empty()) {
    Result<std::shared_ptr<TlsContext>> tls = TlsContext::ForClient(
        TlsFiles{client_options.tls.ca, client_options.tls.cert, client_options.tls.key});
    if (!tls.ok()) {
      std::cerr << "ringkv-bench: " << tls.status().message() << "\n";
      return 2;
    }
    config.tls = *tls;
  }
  std::unique_ptr<ProtocolFactory> factory;
  RingkvOptions ringkv_options;
  if (target->kind == Target::Kind::kRedis) {
    if (!r_arg.empty() || !w_arg.empty() || !pr_arg.empty() || !pw_arg.empty()) {
      std::cerr << "ringkv-bench: --r/--w/--pr/--pw apply to ringkv:// targets only\n";
      return 2;
    }
    factory = NewRedisProtocolFactory();
  } else {
    RingkvOptions options;
    options.bucket = bucket;
    options.timeout_ms = timeout_ms;
    options.token = client_options.token;
    for (auto [text, field] : {std::pair{&r_arg, &options.r}, std::pair{&w_arg, &options.w},
                               std::pair{&pr_arg, &options.pr}, std::pair{&pw_arg, &options.pw}}) {
      if (text->empty()) continue;
      Result<uint32_t> value = ParseQuorumArg(*text);
      if (!value.ok()) {
        std::cerr << "ringkv-bench: " << value.status().message() << "\n";
        return 2;
      }
      *field = *value;
    }
    factory = target->kind == Target::Kind::kHttp ? NewHttpProtocolFactory(options)
                                                  : NewRingkvProtocolFactory(options);
    ringkv_options = options;
  }
  config.protocols = factory.get();

  RunDescription description;
  description.target = target_text;
  description.phase = load ? "load" : (ping ? "ping" : "run");
  description.workload = workload_name;
  description.distribution = std::string(DistributionName(config.workload.distribution));
  description.records = config.records;
  description.value_size = config.value_size;
  description.concurrency = config.concurrency;
  description.threads = std::min(config.threads, config.concurrency);
  description.connections =
      std::clamp(config.connections > 0 ? config.connections : config.concurrency,
                 description.threads, config.concurrency);
  description.rate = config.rate;

  if (!quiet) {
    std::printf("ringkv-bench %s: %s, %s workload %s (%s), %lld records, %zu-byte values, %s, "
                "%d in flight, %d threads, %d connections\n",
                description.phase.c_str(), target_text.c_str(),
                ping ? "ping" : "YCSB", workload_name.c_str(), description.distribution.c_str(),
                static_cast<long long>(config.records), config.value_size,
                config.rate > 0 ? ("open loop at " + std::to_string(config.rate) + " ops/s").c_str()
                                : "closed loop",
                config.concurrency, description.threads, description.connections);
    std::fflush(stdout);
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  Result<RunResult> result = client_reads ? RunClientReads(config, ringkv_options, client_options)
                                          : Run(config);
  if (!result.ok()) {
    std::cerr << "ringkv-bench: " << result.status().message() << "\n";
    return 3;
  }
  std::cout << FormatTable(*result) << std::flush;
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << ToJson(description, *result).dump(2) << "\n";
    if (!out) {
      std::cerr << "ringkv-bench: cannot write " << json_path << "\n";
      return 4;
    }
  }
  return 0;
}

}  // namespace
}  // namespace ringkv::bench

int main(int argc, char** argv) { return ringkv::bench::Main(argc, argv); }
