// Issue 14: the HTTP API of real ringkv-node processes (docs/http-api.md):
// keys of awkward bytes round-trip and are the keys the binary protocol
// sees; siblings come back as 300 (JSON and multipart) and a context
// resolves them; deletes answer 404 with their context; hostile requests
// get clear 4xx; /metrics passes promtool and its counters move by exactly
// the load driven; the probes; and the listener's limits (deadline, caps)
// with the binary protocol serving throughout.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "http/percent.h"
#include "tests/integration/cluster_test_base.h"
#include "tests/integration/http_client.h"

namespace ringkv::testing {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using http::PercentEncode;

const std::vector<std::string> kFastGossip = {"--gossip-interval-ms", "100"};

std::string KeyPath(const std::string& bucket, const std::string& key,
                    const std::string& query = "") {
  return "/v1/buckets/" + PercentEncode(bucket) + "/keys/" + PercentEncode(key) +
         (query.empty() ? "" : "?" + query);
}

template <typename F>
bool PollUntil(F done, milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  while (!done()) {
    if (steady_clock::now() > deadline) return false;
    ::poll(nullptr, 0, 50);
  }
  return true;
}

std::string Describe(const HttpResult& r) {
  std::ostringstream out;
  out << "HTTP " << r.status << "\n";
  for (const auto& [n, v] : r.headers) out << n << ": " << v << "\n";
  out << r.body.substr(0, 2000);
  return out.str();
}

std::string ErrorCode(const HttpResult& r) {
  Json j = Json::parse(r.body, nullptr, false);
  return j.is_object() && j.contains("error") ? j["error"].get<std::string>() : "";
}

// /metrics as series text ("name{labels}") -> value.
std::map<std::string, double> Scrape(const std::string& http) {
  HttpResult r = Http(http, "GET", "/metrics");
  std::map<std::string, double> out;
  std::istringstream in(r.body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::strtod(line.c_str() + sp + 1, nullptr);
  }
  return out;
}

// The path of promtool, or "" when it is not installed.
std::string Promtool() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    const std::string path = std::string(dir) + "/promtool";
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

class HttpTest : public ClusterTestBase {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartCluster(kFastGossip)); }
  std::string H(int node) const { return cluster_.HttpAddress(node); }
};

TEST_F(HttpTest, KeysOfAnyBytesRoundTripAndAreTheKeysOfTheBinaryProtocol) {
  const std::string bucket = "b/u+c%\xc3\xa9 x";
  const std::vector<std::string> keys = {"a/b",        "a+b",          "100%",  "%2F",
                                         "\xc3\xa9\xe2\x98\x83", "sp ace?&=#", "\x01\xfe\xff",
                                         "..",         "."};
  for (const std::string& key : keys) {
    const std::string value = "value of " + key;
    HttpResult put = Http(H(1), "PUT", KeyPath(bucket, key), {}, value);
    ASSERT_EQ(put.status, 204) << Describe(put);
    EXPECT_FALSE(put.Header("x-ringkv-context").empty());
    HttpResult get = Http(H(2), "GET", KeyPath(bucket, key, "r=2"));
    ASSERT_EQ(get.status, 200) << Describe(get);
    EXPECT_EQ(get.body, value);
    // The binary protocol reads the same key.
    CommandResult cli = Ok(3, {"get", bucket, key});
    EXPECT_EQ(cli.out, value + "\n") << cli.Describe();
  }
  // And the other way round.
  Ok(1, {"put", bucket, "from cli/+%", "cli value"});
  HttpResult get = Http(H(3), "GET", KeyPath(bucket, "from cli/+%"));
  EXPECT_EQ(get.status, 200) << Describe(get);
  EXPECT_EQ(get.body, "cli value");
  // A '+' in a path is a plus, not a space.
  HttpResult plus = Http(H(1), "GET", "/v1/buckets/" + PercentEncode(bucket) + "/keys/a+b");
  EXPECT_EQ(plus.body, "value of a+b") << Describe(plus);
  // Bucket properties, read only.
  HttpResult props = Http(H(1), "GET", "/v1/buckets/" + PercentEncode(bucket) + "/props");
  ASSERT_EQ(props.status, 200) << Describe(props);
  Json p = Json::parse(props.body);
  EXPECT_EQ(p["n"], 3);
  EXPECT_EQ(p["r"], 2);
  EXPECT_EQ(p["w"], 2);
  EXPECT_EQ(p["resolver"], "siblings");
  EXPECT_EQ(p["bucket"], bucket);
}

TEST_F(HttpTest, SiblingsAre300AndTheContextResolvesThemThenDeleteAnswers404WithContext) {
  ASSERT_EQ(Http(H(1), "PUT", KeyPath("carts", "bob"), {}, "[\"eggs\"]").status, 204);
  ASSERT_EQ(Http(H(2), "PUT", KeyPath("carts", "bob"), {}, "[\"ham\"]").status, 204);
  HttpResult get = Http(H(3), "GET", KeyPath("carts", "bob"));
  ASSERT_EQ(get.status, 300) << Describe(get);
  EXPECT_EQ(get.Header("content-type"), "application/json");
  Json body = Json::parse(get.body);
  ASSERT_EQ(body["siblings"].size(), 2u) << get.body;
  std::multiset<std::string> values;
  for (const Json& s : body["siblings"]) values.insert(s["value"].get<std::string>());
  EXPECT_EQ(values, (std::multiset<std::string>{"[\"eggs\"]", "[\"ham\"]"}));
  const std::string context = get.Header("x-ringkv-context");
  EXPECT_EQ(body["context"], context);

  // multipart/mixed on Accept: one part per sibling, its raw bytes.
  HttpResult parts = Http(H(1), "GET", KeyPath("carts", "bob"), {{"Accept", "multipart/mixed"}});
  ASSERT_EQ(parts.status, 300) << Describe(parts);
  const std::string type = parts.Header("content-type");
  const size_t at = type.find("boundary=");
  ASSERT_NE(at, std::string::npos) << type;
  const std::string boundary = "--" + type.substr(at + 9);
  std::multiset<std::string> part_values;
  for (size_t pos = parts.body.find(boundary); pos != std::string::npos;) {
    const size_t next = parts.body.find(boundary, pos + boundary.size());
    if (next == std::string::npos) break;
    const std::string part = parts.body.substr(pos + boundary.size(), next - pos - boundary.size());
    const size_t blank = part.find("\r\n\r\n");
    ASSERT_NE(blank, std::string::npos) << part;
    EXPECT_NE(part.find("X-Ringkv-Dot: n"), std::string::npos) << part;
    part_values.insert(part.substr(blank + 4, part.size() - blank - 4 - 2));
    pos = next;
  }
  EXPECT_EQ(part_values, values);

  // A write with the context replaces exactly what was read.
  HttpResult resolve = Http(H(2), "PUT", KeyPath("carts", "bob"), {{"X-Ringkv-Context", context}},
                            "[\"eggs\",\"ham\"]");
  ASSERT_EQ(resolve.status, 204) << Describe(resolve);
  HttpResult one = Http(H(1), "GET", KeyPath("carts", "bob", "r=3"));
  EXPECT_EQ(one.status, 200) << Describe(one);
  EXPECT_EQ(one.body, "[\"eggs\",\"ham\"]");

  // A delete with that context; the key then answers 404 with a context.
  HttpResult del = Http(H(3), "DELETE", KeyPath("carts", "bob"),
                        {{"X-Ringkv-Context", one.Header("x-ringkv-context")}});
  ASSERT_EQ(del.status, 204) << Describe(del);
  HttpResult gone = Http(H(1), "GET", KeyPath("carts", "bob"));
  EXPECT_EQ(gone.status, 404) << Describe(gone);
  EXPECT_EQ(ErrorCode(gone), "not_found");
  EXPECT_FALSE(gone.Header("x-ringkv-context").empty()) << Describe(gone);
  CommandResult cli = cluster_.Cli(2, {"get", "carts", "bob"});
  EXPECT_EQ(cli.exit_code, 1) << cli.Describe();

  // A delete without a context reads first, so it covers every sibling.
  ASSERT_EQ(Http(H(1), "PUT", KeyPath("carts", "eve"), {}, "a").status, 204);
  ASSERT_EQ(Http(H(2), "PUT", KeyPath("carts", "eve"), {}, "b").status, 204);
  EXPECT_EQ(Http(H(3), "DELETE", KeyPath("carts", "eve")).status, 204);
  EXPECT_EQ(Http(H(1), "GET", KeyPath("carts", "eve", "r=3")).status, 404);
  // Never written: 404 and no context.
  HttpResult never = Http(H(1), "GET", KeyPath("carts", "nobody"));
  EXPECT_EQ(never.status, 404);
  EXPECT_TRUE(never.Header("x-ringkv-context").empty()) << Describe(never);
}

// Conditional writes over HTTP (docs/http-api.md, "Conditional writes"):
// If-None-Match: * creates once; a read's ETag in If-Match writes once and
// the same ETag again is 412 with nothing written; the binary protocol's
// context is the same one.
TEST_F(HttpTest, IfMatchWritesOnlyOverWhatTheReadSawAndAStaleETagIs412) {
  const std::string path = KeyPath("cond", "counter");
  const std::vector<std::pair<std::string, std::string>> create = {{"If-None-Match", "*"}};
  HttpResult first = Http(H(1), "PUT", path, create, "1");
  ASSERT_EQ(first.status, 204) << Describe(first);
  HttpResult again = Http(H(2), "PUT", path, create, "one");
  ASSERT_EQ(again.status, 412) << Describe(again);
  EXPECT_EQ(ErrorCode(again), "precondition_failed");

  HttpResult read = Http(H(2), "GET", path);
  ASSERT_EQ(read.status, 200) << Describe(read);
  const std::string etag = read.Header("etag");
  ASSERT_EQ(etag, "\"" + read.Header("x-ringkv-context") + "\"");
  HttpResult second = Http(H(3), "PUT", path, {{"If-Match", etag}}, "2");
  ASSERT_EQ(second.status, 204) << Describe(second);
  // The same read's ETag is stale now: refused, nothing written.
  HttpResult stale = Http(H(1), "PUT", path, {{"If-Match", etag}}, "2 again");
  ASSERT_EQ(stale.status, 412) << Describe(stale);
  EXPECT_EQ(ErrorCode(stale), "precondition_failed");
  HttpResult stale_delete = Http(H(1), "DELETE", path, {{"If-Match", etag}});
  ASSERT_EQ(stale_delete.status, 412) << Describe(stale_delete);
  HttpResult now = Http(H(1), "GET", path);
  ASSERT_EQ(now.status, 200) << Describe(now);
  EXPECT_EQ(now.body, "2");
  // The PUT's own ETag is current: the delete it guards goes through.
  HttpResult gone = Http(H(2), "DELETE", path, {{"If-Match", second.Header("etag")}});
  ASSERT_EQ(gone.status, 204) << Describe(gone);
  EXPECT_EQ(Http(H(3), "GET", path).status, 404);
  // What the cluster never sees.
  HttpResult star = Http(H(1), "PUT", path, {{"If-Match", "*"}}, "x");
  EXPECT_EQ(star.status, 400) << Describe(star);
  EXPECT_EQ(ErrorCode(star), "bad_request");
  HttpResult garbage = Http(H(1), "PUT", path, {{"If-Match", "\"no-context!\""}}, "x");
  EXPECT_EQ(garbage.status, 400) << Describe(garbage);
  EXPECT_EQ(ErrorCode(garbage), "bad_context");
}

TEST_F(HttpTest, HostileRequestsGetClearErrorsAndTheBinaryProtocolServesOn) {
  ASSERT_EQ(Http(H(1), "PUT", KeyPath("b", "k"), {}, "v").status, 204);
  HttpResult other = Http(H(1), "PUT", KeyPath("b", "other"), {}, "v");
  struct Case {
    std::string method, path;
    std::vector<std::pair<std::string, std::string>> headers;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"GET", KeyPath("b", "k", "r=abc"), {}, 400, "bad_request"},
      {"GET", KeyPath("b", "k", "r=0"), {}, 400, "bad_request"},
      {"GET", KeyPath("b", "k", "r=4"), {}, 400, "bad_request"},
      {"GET", KeyPath("b", "k", "r=99999999999"), {}, 400, "bad_request"},
      {"GET", KeyPath("b", "k", "timeout_ms=-1"), {}, 400, "bad_request"},
      {"GET", KeyPath("b", "k", "timeout_ms=1e3"), {}, 400, "bad_request"},
      {"GET", KeyPath("b", "k", "w=2"), {}, 400, "bad_request"},
      {"PUT", KeyPath("b", "k", "r=2"), {}, 400, "bad_request"},
      {"GET", KeyPath("b", "k", "zzz=1"), {}, 400, "bad_request"},
      {"GET", KeyPath("b", "k", "r=1&r=2"), {}, 400, "bad_request"},
      {"GET", KeyPath("b", "k", "r=%zz"), {}, 400, "bad_request"},
      {"GET", "/v1/buckets/b/keys/a%zzb", {}, 400, "bad_request"},
      {"GET", "/v1/buckets/b/keys/a%4", {}, 400, "bad_request"},
      {"GET", "/v1/buckets/b/keys/a%", {}, 400, "bad_request"},
      {"GET", "/v1/buckets//keys/k", {}, 400, "bad_request"},
      {"GET", "/v1/buckets/b/keys/", {}, 400, "bad_request"},
      {"GET", "/v1/buckets/b/keys/a/b", {}, 400, "bad_request"},
      {"GET", "/v1/buckets/" + std::string(300, 'x') + "/keys/k", {}, 400, "bad_request"},
      {"GET", "/nope", {}, 404, "no_route"},
      {"GET", "/v1/buckets/b/nope/k", {}, 404, "no_route"},
      {"GET", KeyPath("b", "k"), {{"X-Ringkv-Context", "!!!"}}, 400, "bad_context"},
      {"GET", KeyPath("b", "k"), {{"X-Ringkv-Context", "AAAA"}}, 400, "bad_context"},
      {"PUT", KeyPath("b", "k"), {{"X-Ringkv-Context", other.Header("x-ringkv-context")}}, 400,
       "bad_context"},
      {"POST", KeyPath("b", "k"), {}, 405, "method_not_allowed"},
      {"DELETE", "/metrics", {}, 405, "method_not_allowed"},
      {"PUT", "/v1/buckets/b/props", {}, 405, "method_not_allowed"},
  };
  for (const Case& c : cases) {
    HttpResult r = Http(H(1), c.method, c.path, c.headers, c.method == "PUT" ? "x" : "");
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.path << "\n" << Describe(r);
    EXPECT_EQ(ErrorCode(r), c.code) << c.method << " " << c.path << "\n" << Describe(r);
    EXPECT_EQ(r.Header("content-type"), "application/json") << c.path;
  }
  // A PUT with neither Content-Length nor chunking: its end would be the
  // end of the stream, so a cut connection would store a cut value.
  HttpResult no_length = Http(H(1), "PUT", KeyPath("b", "k"), {}, "", /*send_length=*/false);
  EXPECT_EQ(no_length.status, 411) << Describe(no_length);
  // Garbage and a bare newline get evhttp's 400 and the connection closes.
  EXPECT_EQ(HttpRaw(H(1), "GARBAGE\r\n\r\n").status, 400);
  EXPECT_EQ(HttpRaw(H(1), "GET /v1/buckets/b/keys/k HTTP/9.9\r\n\r\n").status, 400);
  // None of it touched the key, and the binary protocol serves on.
  CommandResult cli = Ok(2, {"get", "b", "k"});
  EXPECT_EQ(cli.out, "v\n");
  EXPECT_EQ(Http(H(1), "GET", KeyPath("b", "k")).body, "v");
}

TEST_F(HttpTest, QuorumFailuresAre503AndProbesFollowThePeers) {
  ASSERT_EQ(Http(H(1), "GET", "/readyz").status, 200);
  ASSERT_EQ(cluster_.Cluster({"kill", "n3"}).exit_code, 0);
  // The detector may not have noticed yet; the answer is a 503 either way.
  HttpResult all = Http(H(1), "PUT", KeyPath("q", "k", "w=all&timeout_ms=1500"), {}, "v");
  EXPECT_EQ(all.status, 503) << Describe(all);
  EXPECT_EQ(ErrorCode(all), "quorum_unavailable");
  EXPECT_EQ(all.Header("retry-after"), "1");
  EXPECT_EQ(Http(H(1), "PUT", KeyPath("q", "k", "w=2"), {}, "v").status, 204);
  // Two of three up still make the default quorum of 2.
  EXPECT_EQ(Http(H(1), "GET", "/readyz").status, 200);
  ASSERT_EQ(cluster_.Cluster({"kill", "n2"}).exit_code, 0);
  HttpResult ready;
  EXPECT_TRUE(PollUntil(
      [&] {
        ready = Http(H(1), "GET", "/readyz");
        return ready.status == 503;
      },
      milliseconds(20000)))
      << Describe(ready);
  Json why = Json::parse(ready.body);
  EXPECT_EQ(why["status"], "not_ready");
  ASSERT_EQ(why["reasons"].size(), 1u) << ready.body;
  EXPECT_NE(why["reasons"][0].get<std::string>().find("n2"), std::string::npos) << ready.body;
  const auto metrics = Scrape(H(1));
  EXPECT_EQ(metrics.at(R"(ringkv_peer_up{peer="n2"})"), 0);
  EXPECT_EQ(metrics.at(R"(ringkv_peer_up{peer="n3"})"), 0);
  EXPECT_GT(metrics.at("ringkv_storage_disk_bytes"), 0);
  // Liveness never depends on peers.
  HttpResult live = Http(H(1), "GET", "/livez");
  EXPECT_EQ(live.status, 200) << Describe(live);
  // The ring view shows the two killed nodes down.
  Json ring = Json::parse(Http(H(1), "GET", "/v1/ring").body);
  ASSERT_EQ(ring["members"].size(), 3u);
  EXPECT_EQ(ring["members"][0]["up"], true);
  EXPECT_EQ(ring["members"][1]["up"], false);
  EXPECT_EQ(ring["members"][2]["up"], false);
  EXPECT_EQ(ring["partitions"].size(), 64u);
}

TEST_F(HttpTest, MetricsPassPromtoolAndCountersMoveByExactlyTheLoad) {
  const std::string promtool = Promtool();
  if (promtool.empty()) {
    FAIL() << "promtool is not installed (Debian package prometheus; tools/setup.sh installs it)";
  }
  // Something in every histogram family first, so promtool sees them full.
  ASSERT_EQ(Http(H(1), "PUT", KeyPath("m", "warm"), {}, "v").status, 204);
  const std::map<std::string, double> before = Scrape(H(1));
  constexpr int kPuts = 20, kGets = 15, kMissing = 5;
  for (int i = 0; i < kPuts; ++i) {
    ASSERT_EQ(Http(H(1), "PUT", KeyPath("m", "k" + std::to_string(i)), {}, "v").status, 204);
  }
  for (int i = 0; i < kGets; ++i) {
    ASSERT_EQ(Http(H(1), "GET", KeyPath("m", "k" + std::to_string(i))).status, 200);
  }
  for (int i = 0; i < kMissing; ++i) {
    ASSERT_EQ(Http(H(1), "GET", KeyPath("m", "none" + std::to_string(i))).status, 404);
  }
  HttpResult text = Http(H(1), "GET", "/metrics");
  ASSERT_EQ(text.status, 200);
  EXPECT_EQ(text.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::map<std::string, double> after = Scrape(H(1));
  auto moved = [&](const std::string& series) {
    auto b = before.find(series);
    auto a = after.find(series);
    EXPECT_NE(a, after.end()) << "no series " << series;
    return (a == after.end() ? 0 : a->second) - (b == before.end() ? 0 : b->second);
  };
  EXPECT_EQ(moved(R"(ringkv_http_requests_total{code="204",op="put"})"), kPuts);
  EXPECT_EQ(moved(R"(ringkv_http_requests_total{code="200",op="get"})"), kGets);
  EXPECT_EQ(moved(R"(ringkv_http_requests_total{code="404",op="get"})"), kMissing);
  EXPECT_EQ(moved(R"(ringkv_http_request_duration_seconds_count{op="put"})"), kPuts);
  EXPECT_EQ(moved(R"(ringkv_http_request_duration_seconds_bucket{op="put",le="+Inf"})"), kPuts);
  EXPECT_EQ(moved(R"(ringkv_client_requests_total{op="put",result="ok"})"), kPuts);
  EXPECT_EQ(moved(R"(ringkv_client_requests_total{op="get",result="ok"})"), kGets);
  EXPECT_EQ(moved(R"(ringkv_client_requests_total{op="get",result="not_found"})"), kMissing);
  EXPECT_EQ(moved(R"(ringkv_client_request_duration_seconds_count{op="put"})"), kPuts);
  // Each get that found a value found one sibling.
  EXPECT_EQ(moved(R"(ringkv_read_siblings_bucket{le="1"})"), kGets);
  EXPECT_EQ(moved("ringkv_read_siblings_count"), kGets);
  EXPECT_EQ(after.at(R"(ringkv_peer_up{peer="n2"})"), 1);

  TempDir dir;
  const std::string file = dir.path() + "/metrics.txt";
  std::ofstream(file) << text.body;
  CommandResult check = RunCommand({"/bin/sh", "-c", promtool + " check metrics < " + file});
  EXPECT_EQ(check.exit_code, 0) << check.Describe();
  EXPECT_EQ(check.out + check.err, "") << check.Describe();
}

TEST_F(HttpTest, ThePageIsSelfContainedAndTheStatusShowsTheHttpAddresses) {
  HttpResult page = Http(H(2), "GET", "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<svg"), std::string::npos);
  EXPECT_NE(page.body.find("/v1/ring"), std::string::npos);
  // Nothing is fetched from elsewhere: no external scripts, styles or images.
  for (const char* outside : {" src=", "<link", "@import", "url("}) {
    EXPECT_EQ(page.body.find(outside), std::string::npos) << outside;
  }
  CommandResult status = cluster_.Cluster({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.Describe();
  Json nodes = Json::parse(status.out);
  ASSERT_EQ(nodes.size(), 3u);
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(nodes[i - 1]["http"], H(i)) << status.out;
  CommandResult text = cluster_.Cluster({"status"});
  EXPECT_NE(text.out.find("http " + H(1)), std::string::npos) << text.out;
}

// The path of Debian's chromium, or "" when it is not installed.
std::string Chromium() { return ::access("/usr/bin/chromium", X_OK) == 0 ? "/usr/bin/chromium" : ""; }

// Loads `url` in headless Chromium, lets its scripts run for a few
// (virtual) seconds, and returns the DOM then; `console` gets every console
// message the page produced (errors, uncaught exceptions, failed loads).
std::string LoadPage(const std::string& chromium, const std::string& url, const std::string& profile,
                     std::string* console, const std::string& screenshot = "") {
  std::vector<std::string> argv = {chromium, "--headless", "--no-sandbox", "--disable-gpu",
                                   "--user-data-dir=" + profile, "--enable-logging=stderr",
                                   "--v=0", "--virtual-time-budget=3000",
                                   "--window-size=1100,700"};
  argv.push_back(screenshot.empty() ? "--dump-dom" : "--screenshot=" + screenshot);
  argv.push_back(url);
  CommandResult r = RunCommand(argv, std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  std::istringstream err(r.err);
  for (std::string line; std::getline(err, line);) {
    if (line.find(":CONSOLE") != std::string::npos) *console += line + "\n";
  }
  return r.out;
}

// node id -> "up" or "down", as the page shows them.
std::map<std::string, std::string> NodesShown(const std::string& dom) {
  std::map<std::string, std::string> shown;
  const std::string mark = "data-node=\"";
  for (size_t at = dom.find(mark); at != std::string::npos; at = dom.find(mark, at + 1)) {
    const size_t id_end = dom.find('"', at + mark.size());
    const size_t state = dom.find("data-state=\"", id_end);
    if (id_end == std::string::npos || state == std::string::npos) break;
    const size_t state_end = dom.find('"', state + 12);
    shown[dom.substr(at + mark.size(), id_end - at - mark.size())] =
        dom.substr(state + 12, state_end - state - 12);
  }
  return shown;
}

TEST_F(HttpTest, ThePageLoadsInChromiumWithoutErrorsAndShowsAKilledNodeDown) {
  const std::string chromium = Chromium();
  if (chromium.empty()) {
    FAIL() << "chromium is not installed (Debian package chromium; tools/setup.sh installs it)";
  }
  TempDir profile;
  const std::string url = "http://" + H(1) + "/";
  std::string console;
  std::string dom = LoadPage(chromium, url, profile.path(), &console);
  EXPECT_EQ(console, "");
  EXPECT_EQ(NodesShown(dom), (std::map<std::string, std::string>{
                                 {"n1", "up"}, {"n2", "up"}, {"n3", "up"}}))
      << dom.substr(0, 3000);
  // 64 partitions drawn.
  size_t arcs = 0;
  for (size_t at = dom.find("<path"); at != std::string::npos; at = dom.find("<path", at + 1)) ++arcs;
  EXPECT_EQ(arcs, 64u);

  ASSERT_EQ(cluster_.Cluster({"kill", "n3"}).exit_code, 0);
  const auto killed = steady_clock::now();
  std::map<std::string, std::string> shown;
  // Detection takes about 18 gossip intervals (100 ms here); each load
  // takes its own few seconds.
  EXPECT_TRUE(PollUntil(
      [&] {
        shown = NodesShown(LoadPage(chromium, url, profile.path(), &console));
        return shown["n3"] == "down";
      },
      milliseconds(30000)))
      << "n3 still shown " << shown["n3"];
  std::cerr << "n3 shown down " << std::chrono::duration_cast<milliseconds>(steady_clock::now() - killed).count()
            << " ms after the kill\n";
  EXPECT_EQ(shown["n1"], "up");
  EXPECT_EQ(shown["n2"], "up");
  EXPECT_EQ(console, "");
  // A screenshot, for a person to look at.
  const char* artifacts = std::getenv("RINGKV_ARTIFACT_DIR");
  const std::string dir = artifacts != nullptr ? artifacts : profile.path();
  std::filesystem::create_directories(dir);
  const std::string png = dir + "/http_page.png";
  LoadPage(chromium, url, profile.path(), &console, png);
  EXPECT_GT(std::filesystem::exists(png) ? std::filesystem::file_size(png) : 0, 1000u) << png;
  std::cerr << "screenshot: " << png << "\n";
}

// One node started by hand with tight HTTP limits.
class HttpLimitsTest : public ::testing::Test {
 protected:
  static constexpr int kDeadlineMs = 1500;
  static constexpr int kMaxConnections = 8;
  static constexpr int kMaxBody = 64 * 1024;
  static constexpr int kMaxHeaders = 4096;

  void SetUp() override {
    const uint16_t base = FindFreePortBase(1);
    binary_ = "127.0.0.1:" + std::to_string(base + 1);
    http_ = "127.0.0.1:" + std::to_string(base + 1 + 1000);
    std::ofstream(dir_.path() + "/cluster.toml")
        << "partitions = 8\nn = 1\n[[member]]\nid = \"n1\"\naddress = \"" << binary_ << "\"\n";
    std::vector<std::string> args = {BinaryPath("node/ringkv-node"),
                                     "--cluster", dir_.path() + "/cluster.toml",
                                     "--node", "n1",
                                     "--data", dir_.path() + "/data",
                                     "--log-file", dir_.path() + "/node.log",
                                     "--insecure-no-peer-auth",
                                     "--http", http_,
                                     "--http-deadline-ms", std::to_string(kDeadlineMs),
                                     "--http-max-connections", std::to_string(kMaxConnections),
                                     "--http-max-body-bytes", std::to_string(kMaxBody),
                                     "--http-max-header-bytes", std::to_string(kMaxHeaders)};
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ASSERT_TRUE(PollUntil([&] { return Http(http_, "GET", "/livez").status == 200; },
                          milliseconds(10000)));
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (HasFailure()) {
      std::ifstream log(dir_.path() + "/node.log");
      std::cerr << log.rdbuf();
    }
  }
  // The binary protocol answers through the CLI.
  void ExpectBinaryServes() {
    CommandResult r = RunCommand({BinaryPath("tools/ringkv"), "--node", binary_, "--timeout",
                                  "2000", "put", "bin", "k", "v"});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
  }

  TempDir dir_;
  std::string binary_, http_;
  pid_t pid_ = -1;
};

TEST_F(HttpLimitsTest, AOneBytePerSecondClientIsCutWithinTheDeadline) {
  const int fd = ConnectTo(http_);
  ASSERT_GE(fd, 0);
  const std::string request = "GET /livez HTTP/1.1\r\nHost: x\r\n" + std::string(200, ' ');
  const auto start = steady_clock::now();
  bool closed = false;
  std::string got;
  for (size_t i = 0; i < request.size() && !closed; ++i) {
    if (::send(fd, &request[i], 1, MSG_NOSIGNAL) != 1) {
      closed = true;
      break;
    }
    // One byte a second; the node reads each at once.
    const auto until = steady_clock::now() + milliseconds(1000);
    while (!closed && steady_clock::now() < until) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        char buf[512];
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) closed = true;
        if (n > 0) got.append(buf, static_cast<size_t>(n));
      }
    }
    if (i == 1) ExpectBinaryServes();
    if (steady_clock::now() - start > milliseconds(kDeadlineMs + 5000)) break;
  }
  const auto elapsed = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_LT(elapsed.count(), kDeadlineMs + 1500) << elapsed.count();
  EXPECT_GE(elapsed.count(), kDeadlineMs - 100) << elapsed.count();
  EXPECT_EQ(got.rfind("HTTP/1.1 408", 0), 0u) << got;
  const auto metrics = Scrape(http_);
  EXPECT_EQ(metrics.at(R"(ringkv_http_connections_rejected_total{reason="deadline"})"), 1);
  ExpectBinaryServes();
}

TEST_F(HttpLimitsTest, AnOversizedBodyGets413AndTheNextConnectionIsServed) {
  HttpResult big = Http(http_, "PUT", KeyPath("b", "big"), {}, std::string(kMaxBody + 1, 'x'));
  EXPECT_EQ(big.status, 413) << Describe(big);
  HttpResult next = Http(http_, "PUT", KeyPath("b", "big"), {}, std::string(kMaxBody, 'y'));
  EXPECT_EQ(next.status, 204) << Describe(next);
  HttpResult get = Http(http_, "GET", KeyPath("b", "big"));
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, std::string(kMaxBody, 'y'));
  // A body announced past the cap is read and thrown away so that its
  // client can read the 413; one announced and never sent is cut at the
  // deadline.
  const auto start = steady_clock::now();
  HttpResult declared =
      HttpRaw(http_, "PUT " + KeyPath("b", "big") + " HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                         std::to_string(1u << 30) + "\r\n\r\n");
  EXPECT_EQ(declared.status, 408) << Describe(declared);
  EXPECT_LT(steady_clock::now() - start, milliseconds(kDeadlineMs + 1000));
  ExpectBinaryServes();
}

TEST_F(HttpLimitsTest, HeadersOverTheCapGet431AndFarOverIt400) {
  HttpResult over = Http(http_, "GET", "/livez", {{"X-Big", std::string(kMaxHeaders + 10, 'a')}});
  EXPECT_EQ(over.status, 431) << Describe(over);
  EXPECT_EQ(ErrorCode(over), "headers_too_large");
  HttpResult far = Http(http_, "GET", "/livez", {{"X-Big", std::string(8 * kMaxHeaders, 'a')}});
  EXPECT_EQ(far.status, 400) << Describe(far);
  HttpResult long_key = Http(http_, "GET", KeyPath("b", std::string(kMaxHeaders, 'k')));
  EXPECT_EQ(long_key.status, 431) << Describe(long_key);
  EXPECT_EQ(Http(http_, "GET", "/livez").status, 200);
  ExpectBinaryServes();
}

TEST_F(HttpLimitsTest, ConnectionsPastTheCapGet503AndClosedOnesFreeTheirPlaces) {
  std::vector<int> idle;
  for (int i = 0; i < kMaxConnections; ++i) {
    const int fd = ConnectTo(http_);
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  // The node counts them at its next loop turn.
  ASSERT_TRUE(PollUntil(
      [&] {
        return Http(http_, "GET", "/livez").status == 503;
      },
      milliseconds(1000)));
  HttpResult refused = Http(http_, "GET", "/livez");
  EXPECT_EQ(refused.status, 503) << Describe(refused);
  EXPECT_EQ(ErrorCode(refused), "busy");
  ExpectBinaryServes();
  for (int fd : idle) ::close(fd);
  EXPECT_TRUE(PollUntil([&] { return Http(http_, "GET", "/livez").status == 200; },
                        milliseconds(5000)));
  // Every connection closed is forgotten: only the scrape's own is open.
  std::map<std::string, double> metrics;
  EXPECT_TRUE(PollUntil(
      [&] {
        metrics = Scrape(http_);
        return metrics["ringkv_http_connections_open"] == 1;
      },
      milliseconds(5000)))
      << metrics["ringkv_http_connections_open"];
  EXPECT_GE(metrics[R"(ringkv_http_connections_rejected_total{reason="connection_cap"})"], 1);
}

}  // namespace
}  // namespace ringkv::testing
