// ringkv-client-loop: the simplest measurement of the client library, as
// issue 2 asks: COUNT sequential puts, then COUNT sequential gets of the same
// keys, one request at a time through ringkv::Client, reporting ops/s and
// latency percentiles of each phase. For load with concurrency and
// workloads, use ringkv-bench.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "client/address.h"
#include "client/client.h"
#include "common/quorum.h"

namespace ringkv {
namespace {

using Clock = std::chrono::steady_clock;

struct Phase {
  std::vector<double> latencies_us;
  double seconds = 0;
  int errors = 0;

  double Percentile(double p) const {
    if (latencies_us.empty()) return 0;
    std::vector<double> sorted = latencies_us;
    std::sort(sorted.begin(), sorted.end());
    return sorted[static_cast<size_t>(p * static_cast<double>(sorted.size() - 1))];
  }
  nlohmann::json ToJson() const {
    const double ops = seconds > 0 ? static_cast<double>(latencies_us.size()) / seconds : 0;
    return {{"ops", latencies_us.size()}, {"errors", errors},          {"seconds", seconds},
            {"ops_per_s", ops},           {"p50_us", Percentile(0.5)}, {"p99_us", Percentile(0.99)},
            {"max_us", Percentile(1.0)}};
  }
};

template <typename Op>
Phase Measure(int count, Op op) {
  Phase phase;
  phase.latencies_us.reserve(count);
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    if (!op(i)) ++phase.errors;
    phase.latencies_us.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  phase.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return phase;
}

}  // namespace
}  // namespace ringkv

int main(int argc, char** argv) {
  using namespace ringkv;
  CLI::App app{"ringkv-client-loop: sequential puts then gets through the client library"};
  std::vector<std::string> nodes;
  int count = 10000;
  size_t value_size = 100;
  std::string bucket = "loop", r_text = "2", w_text = "2";
  app.add_option("--node", nodes, "HOST:PORT (repeat or comma-separate; default 127.0.0.1:7101)");
  app.add_option("--count", count, "puts, then as many gets")->capture_default_str();
  app.add_option("--value-size", value_size, "bytes per value")->capture_default_str();
  app.add_option("--bucket", bucket)->capture_default_str();
  app.add_option("--r", r_text, "read quorum")->capture_default_str();
  app.add_option("--w", w_text, "write quorum")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  Result<uint32_t> r = ParseQuorumArg(r_text);
  Result<uint32_t> w = ParseQuorumArg(w_text);
  Result<std::vector<std::string>> addresses =
      SplitAddressList(nodes.empty() ? std::vector<std::string>{"127.0.0.1:7101"} : nodes);
  for (const Status& st : {r.status(), w.status(), addresses.status()}) {
    if (!st.ok()) {
      std::cerr << "ringkv-client-loop: " << st.ToString() << "\n";
      return 2;
    }
  }
  ClientOptions options;
  options.nodes = *addresses;
  Result<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "ringkv-client-loop: " << client.status().ToString() << "\n";
    return 3;
  }
  const std::string value(value_size, 'x');
  const std::string prefix = "k" + std::to_string(Clock::now().time_since_epoch().count()) + "-";
  WriteOptions write;
  write.w = *w;
  ReadOptions read;
  read.r = *r;
  Status first_error;
  auto note = [&first_error](const Status& st) {
    if (!st.ok() && first_error.ok()) first_error = st;
    return st.ok();
  };
  Phase puts = Measure(count, [&](int i) {
    return note((*client)->Put(bucket, prefix + std::to_string(i), value, write).status());
  });
  Phase gets = Measure(count, [&](int i) {
    Result<GetResult> got = (*client)->Get(bucket, prefix + std::to_string(i), read);
    if (got.ok() && !got->found) return note(Status::NotFound("a written key was not found"));
    return note(got.status());
  });
  std::cout << nlohmann::json{{"count", count}, {"value_size", value_size}, {"r", r_text},
                              {"w", w_text},    {"put", puts.ToJson()},     {"get", gets.ToJson()}}
                   .dump(2)
            << "\n";
  if (!first_error.ok())
    std::cerr << "ringkv-client-loop: first error: " << first_error.ToString() << "\n";
  return puts.errors + gets.errors == 0 ? 0 : 4;
}
