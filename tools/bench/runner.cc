#include "tools/bench/runner.h"

#include <event2/event.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common/random.h"
#include "tools/bench/key_chooser.h"
#include "tools/bench/process_cpu.h"

namespace ringkv::bench {
namespace {

std::atomic<bool> g_stop_requested{false};

constexpr uint64_t kNsPerSec = 1'000'000'000;
constexpr timeval kHousekeepingPeriod = {0, 20'000};  // 20 ms
constexpr timeval kReconnectDelay = {0, 200'000};     // 200 ms
constexpr size_t kReadChunk = 64 * 1024;
// Distinct bytes to take values from, so that values are not all equal.
constexpr size_t kValuePoolSlack = 4096;

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * kNsPerSec + static_cast<uint64_t>(ts.tv_nsec);
}

double RusageSeconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

// This process's CPU time and, when asked for, the servers'.
struct CpuTimes {
  double user = 0, sys = 0;
  Result<CpuSeconds> servers = Status::NotFound("no server pids");
  static CpuTimes Now(const std::vector<int>& server_pids) {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    CpuTimes t{RusageSeconds(usage.ru_utime), RusageSeconds(usage.ru_stime)};
    if (!server_pids.empty()) t.servers = ReadProcessCpu(server_pids);
    return t;
  }
};

// State every worker reads; the atomics are the only shared writes.
struct Shared {
  const RunConfig* config = nullptr;
  std::vector<sockaddr_storage> addresses;  // one per endpoint
  std::vector<socklen_t> address_lengths;
  std::string value_pool;
  uint64_t start_ns = 0;
  uint64_t measure_start_ns = 0;
  uint64_t measure_end_ns = UINT64_MAX;  // duration mode only
  std::atomic<int64_t> tickets{0};       // ops mode: measured ops left to issue
  std::atomic<int64_t> load_next{0};     // load phase: next key number
  std::unique_ptr<InsertCounter> inserts;
};

// One worker's figures; the progress line reads them once a second.
struct ThreadStats {
  std::mutex mu;
  std::array<Histogram, kOpTypeCount> latency;  // guarded by mu
  Histogram all;                                // guarded by mu; every op type
  std::map<std::string, uint64_t> errors;       // guarded by mu
  uint64_t ops = 0, error_count = 0, sibling_reads = 0;  // guarded by mu
  uint64_t max_siblings_read = 0, largest_object_read = 0;  // guarded by mu
  uint64_t conditional_retries = 0;                          // guarded by mu
  uint64_t last_completion_ns = 0;                       // guarded by mu
  std::atomic<uint64_t> completed{0};  // every completion, warm-up included
};

class Worker {
 public:
  Worker(Shared* shared, ThreadStats* stats, int index, int slots, int connections);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Run();

 private:
  struct Op {
    OpType type = OpType::kRead;
    int64_t keynum = 0;
    std::string key;
    uint64_t intended_ns = 0;  // latency is measured from here
    uint64_t sent_ns = 0;      // client timeouts are measured from here
    uint64_t id = 0;
    bool measured = false;
    bool second_stage = false;  // read-modify-write: the write
    std::string context;
    // Read-modify-write: rounds spent resolving a write that landed beside
    // a concurrent one (read again, write with that context).
    int resolve_rounds = 0;
  };

  struct Conn {
    Worker* worker = nullptr;
    size_t endpoint = 0;
    int fd = -1;
    bool connected = false;    // ready for requests (TCP, and TLS when used)
    SSL* ssl = nullptr;        // with RunConfig::tls, once TCP connected
    bool handshaking = false;  // TLS handshake under way
    bool dirty = false;  // has unsent bytes to flush at the end of the callback
    event* read_event = nullptr;
    event* write_event = nullptr;
    event* retry_event = nullptr;
    std::unique_ptr<Protocol> protocol;
    std::string out;
    size_t out_sent = 0;
    std::string in;
    std::deque<Op> pending;  // in send order
    size_t max_in_flight = 1;
    uint64_t next_id = 1;
  };

  static void OnReadable(evutil_socket_t fd, short what, void* arg);
  static void OnWritable(evutil_socket_t fd, short what, void* arg);
  static void OnRetry(evutil_socket_t fd, short what, void* arg);
  static void OnHousekeeping(evutil_socket_t fd, short what, void* arg);
  static void OnTick(evutil_socket_t fd, short what, void* arg);

  void Connect(Conn* conn);
  // Runs the TLS handshake as far as the socket allows; then the
  // connection takes requests.
  void Handshake(Conn* conn);
  void Ready(Conn* conn);
  static void FreeSsl(Conn* conn);
  void Fail(Conn* conn, const std::string& kind);
  void Flush(Conn* conn);
  void FlushDirty();
  void Read(Conn* conn);
  void HandleReply(Conn* conn, Reply& reply);
  void Complete(Op& op, bool ok, const std::string& error_kind, uint64_t now);
  std::optional<Op> NewOp(uint64_t intended_ns);
  void Send(Conn* conn, Op op);
  void Refill();
  void RefillClosed(Conn* conn);
  void DrainOpenLoop();
  size_t InFlight() const;
  void MaybeFinish();

  Shared* shared_;
  const RunConfig& config_;
  ThreadStats* stats_;
  Random random_;
  KeyChooser chooser_;
  event_base* base_ = nullptr;
  event* housekeeping_ = nullptr;
  event* tick_ = nullptr;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> dirty_;
  bool done_issuing_ = false;
  // Open loop: request k of this thread is due at start_ns + k * period_ns_.
  bool open_loop_ = false;
  double period_ns_ = 0;
  uint64_t sent_ = 0;
  size_t next_conn_ = 0;
};

Worker::Worker(Shared* shared, ThreadStats* stats, int index, int slots, int connections)
    : shared_(shared),
      config_(*shared->config),
      stats_(stats),
      random_(shared->config->seed * 1'000'003 + static_cast<uint64_t>(index)),
      chooser_(shared->config->workload.distribution, shared->config->records,
               shared->inserts.get()) {
  event_config* cfg = event_config_new();
  event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  base_ = event_base_new_with_config(cfg);
  event_config_free(cfg);

  open_loop_ = config_.rate > 0;
  if (open_loop_) {
    const double threads = std::min(config_.threads, config_.concurrency);
    period_ns_ = kNsPerSec / (config_.rate / threads);
    tick_ = evtimer_new(base_, &Worker::OnTick, this);
  }
  housekeeping_ = event_new(base_, -1, EV_PERSIST, &Worker::OnHousekeeping, this);

  for (int i = 0; i < connections; ++i) {
    auto conn = std::make_unique<Conn>();
    conn->worker = this;
    // Round-robin over endpoints across all threads' connections.
    conn->endpoint = static_cast<size_t>(index + i * config_.threads) % shared_->addresses.size();
    conn->max_in_flight = static_cast<size_t>(slots / connections + (i < slots % connections));
    conn->retry_event = evtimer_new(base_, &Worker::OnRetry, conn.get());
    conns_.push_back(std::move(conn));
  }
}

Worker::~Worker() {
  for (auto& conn : conns_) {
    if (conn->read_event != nullptr) event_free(conn->read_event);
    if (conn->write_event != nullptr) event_free(conn->write_event);
    event_free(conn->retry_event);
    FreeSsl(conn.get());
    if (conn->fd >= 0) close(conn->fd);
  }
  if (tick_ != nullptr) event_free(tick_);
  event_free(housekeeping_);
  event_base_free(base_);
}

void Worker::Run() {
  for (auto& conn : conns_) Connect(conn.get());
  event_add(housekeeping_, &kHousekeepingPeriod);
  if (open_loop_) DrainOpenLoop();
  FlushDirty();
  event_base_dispatch(base_);
}

void Worker::Connect(Conn* conn) {
  const int fd = socket(shared_->addresses[conn->endpoint].ss_family,
                        SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    event_add(conn->retry_event, &kReconnectDelay);
    return;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  conn->fd = fd;
  conn->connected = false;
  conn->protocol = config_.protocols->NewProtocol();
  conn->read_event = event_new(base_, fd, EV_READ | EV_PERSIST, &Worker::OnReadable, conn);
  conn->write_event = event_new(base_, fd, EV_WRITE, &Worker::OnWritable, conn);
  const int rc = connect(fd, reinterpret_cast<const sockaddr*>(&shared_->addresses[conn->endpoint]),
                         shared_->address_lengths[conn->endpoint]);
  if (rc != 0 && errno != EINPROGRESS) {
    Fail(conn, "connect");
    return;
  }
  // Completion of the connect shows as writability.
  event_add(conn->write_event, nullptr);
}

void Worker::Fail(Conn* conn, const std::string& kind) {
  const uint64_t now = NowNs();
  for (Op& op : conn->pending) Complete(op, false, kind, now);
  conn->pending.clear();
  if (conn->read_event != nullptr) event_free(conn->read_event);
  if (conn->write_event != nullptr) event_free(conn->write_event);
  conn->read_event = conn->write_event = nullptr;
  FreeSsl(conn);
  if (conn->fd >= 0) close(conn->fd);
  conn->fd = -1;
  conn->connected = false;
  conn->handshaking = false;
  conn->out.clear();
  conn->out_sent = 0;
  conn->in.clear();
  if (!done_issuing_) event_add(conn->retry_event, &kReconnectDelay);
  MaybeFinish();
}

void Worker::OnRetry(evutil_socket_t, short, void* arg) {
  auto* conn = static_cast<Conn*>(arg);
  if (!conn->worker->done_issuing_) conn->worker->Connect(conn);
}

void Worker::OnWritable(evutil_socket_t fd, short, void* arg) {
  auto* conn = static_cast<Conn*>(arg);
  Worker* self = conn->worker;
  if (conn->handshaking) {
    self->Handshake(conn);
    self->FlushDirty();
    return;
  }
  if (!conn->connected) {
    int error = 0;
    socklen_t len = sizeof(error);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
      self->Fail(conn, "connect");
      return;
    }
    if (self->config_.tls != nullptr) {
      conn->ssl = self->config_.tls->NewSsl();
      if (conn->ssl == nullptr || SSL_set_fd(conn->ssl, conn->fd) != 1) {
        self->Fail(conn, "tls_handshake");
        return;
      }
      // The out buffer grows while a write waits for the socket.
      SSL_set_mode(conn->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
      conn->handshaking = true;
      event_add(conn->read_event, nullptr);
      self->Handshake(conn);
      self->FlushDirty();
      return;
    }
    self->Ready(conn);
  }
  self->Flush(conn);
  self->FlushDirty();
}

void Worker::Ready(Conn* conn) {
  conn->connected = true;
  event_add(conn->read_event, nullptr);
  Refill();
  Flush(conn);
}

void Worker::Handshake(Conn* conn) {
  const int rc = SSL_connect(conn->ssl);
  if (rc == 1) {
    conn->handshaking = false;
    Ready(conn);
    return;
  }
  switch (SSL_get_error(conn->ssl, rc)) {
    case SSL_ERROR_WANT_READ:  // the read event is armed
      return;
    case SSL_ERROR_WANT_WRITE:
      event_add(conn->write_event, nullptr);
      return;
    default:
      Fail(conn, "tls_handshake");
  }
}

void Worker::FreeSsl(Conn* conn) {
  if (conn->ssl == nullptr) return;
  SSL_free(conn->ssl);
  conn->ssl = nullptr;
}

void Worker::Flush(Conn* conn) {
  conn->dirty = false;
  if (!conn->connected) return;
  while (conn->out_sent < conn->out.size()) {
    if (conn->ssl != nullptr) {
      const int n = SSL_write(conn->ssl, conn->out.data() + conn->out_sent,
                              static_cast<int>(std::min<size_t>(conn->out.size() - conn->out_sent,
                                                                INT32_MAX)));
      if (n > 0) {
        conn->out_sent += static_cast<size_t>(n);
        continue;
      }
      const int error = SSL_get_error(conn->ssl, n);
      if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
        event_add(conn->write_event, nullptr);
        return;
      }
      Fail(conn, "connection_closed");
      return;
    }
    const ssize_t n = send(conn->fd, conn->out.data() + conn->out_sent,
                           conn->out.size() - conn->out_sent, MSG_NOSIGNAL);
    if (n > 0) {
      conn->out_sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      event_add(conn->write_event, nullptr);
      return;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      Fail(conn, "connection_closed");
      return;
    }
  }
  conn->out.clear();
  conn->out_sent = 0;
}

void Worker::FlushDirty() {
  // Flush may fail a connection, which completes ops and may issue more.
  while (!dirty_.empty()) {
    Conn* conn = dirty_.back();
    dirty_.pop_back();
    Flush(conn);
  }
}

void Worker::OnReadable(evutil_socket_t, short, void* arg) {
  auto* conn = static_cast<Conn*>(arg);
  if (conn->handshaking) {
    conn->worker->Handshake(conn);
  } else {
    conn->worker->Read(conn);
  }
  conn->worker->FlushDirty();
}

void Worker::Read(Conn* conn) {
  char chunk[kReadChunk];
  // OpenSSL may hold decrypted bytes the socket no longer shows: read until
  // it wants more from the socket.
  while (conn->ssl != nullptr) {
    const int n = SSL_read(conn->ssl, chunk, sizeof(chunk));
    if (n > 0) {
      conn->in.append(chunk, static_cast<size_t>(n));
      continue;
    }
    const int error = SSL_get_error(conn->ssl, n);
    if (error == SSL_ERROR_WANT_READ) break;
    if (error == SSL_ERROR_WANT_WRITE) {
      event_add(conn->write_event, nullptr);
      break;
    }
    Fail(conn, "connection_closed");
    return;
  }
  while (conn->ssl == nullptr) {
    const ssize_t n = recv(conn->fd, chunk, sizeof(chunk), 0);
    if (n > 0) {
      conn->in.append(chunk, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof(chunk)) break;
    } else if (n == 0) {
      Fail(conn, "connection_closed");
      return;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else if (errno != EINTR) {
      Fail(conn, "connection_closed");
      return;
    }
  }
  size_t offset = 0;
  while (offset < conn->in.size()) {
    Reply reply;
    size_t consumed = 0;
    const auto state =
        conn->protocol->Parse(std::string_view(conn->in).substr(offset), &consumed, &reply);
    if (state == Protocol::ParseState::kNeedMore) break;
    if (state == Protocol::ParseState::kError) {
      Fail(conn, reply.error_kind);
      return;
    }
    offset += consumed;
    HandleReply(conn, reply);
    if (!conn->connected) return;  // failed while handling
  }
  conn->in.erase(0, offset);
  Refill();
}

void Worker::HandleReply(Conn* conn, Reply& reply) {
  auto it = conn->pending.begin();
  if (!conn->protocol->ordered()) {
    it = std::find_if(conn->pending.begin(), conn->pending.end(),
                      [&](const Op& op) { return op.id == reply.id; });
  }
  if (it == conn->pending.end()) {
    Fail(conn, "unmatched_reply");
    return;
  }
  Op op = std::move(*it);
  conn->pending.erase(it);
  const uint64_t now = NowNs();
  // A read-modify-write whose conditional write found the key changed since
  // its read, or (a node older than conditional puts, an owner failing
  // over) landed beside a concurrent one, starts again as Client::Update
  // does: read again and write with that context.
  constexpr int kMaxResolveRounds = 8;
  const bool changed = reply.ok ? reply.siblings > 1 : reply.error_kind == "precondition_failed";
  if (op.type == OpType::kReadModifyWrite && op.second_stage && changed &&
      op.resolve_rounds < kMaxResolveRounds) {
    if (!reply.ok && op.measured) {
      std::lock_guard<std::mutex> lock(stats_->mu);
      ++stats_->conditional_retries;
    }
    ++op.resolve_rounds;
    op.second_stage = false;
    op.context.clear();
    Send(conn, std::move(op));
    return;
  }
  if (!reply.ok) {
    Complete(op, false, reply.error_kind, now);
    return;
  }
  const bool is_read = op.type == OpType::kRead ||
                       (op.type == OpType::kReadModifyWrite && !op.second_stage);
  if (is_read) {
    if (op.measured) {
      std::lock_guard<std::mutex> lock(stats_->mu);
      if (reply.siblings > 1) ++stats_->sibling_reads;
      stats_->max_siblings_read = std::max<uint64_t>(stats_->max_siblings_read, reply.siblings);
      stats_->largest_object_read =
          std::max<uint64_t>(stats_->largest_object_read, reply.object_size);
    }
    if (config_.verify && !reply.found) {
      Complete(op, false, "not_found", now);
      return;
    }
    if (config_.verify && reply.value_size != config_.value_size) {
      Complete(op, false, "wrong_value_size", now);
      return;
    }
    if (op.type == OpType::kReadModifyWrite) {
      op.second_stage = true;
      op.context = std::move(reply.context);
      Send(conn, std::move(op));
      return;
    }
  }
  Complete(op, true, "", now);
}

void Worker::Complete(Op& op, bool ok, const std::string& error_kind, uint64_t now) {
  stats_->completed.fetch_add(1, std::memory_order_relaxed);
  if (ok && op.type == OpType::kInsert && config_.phase == RunConfig::Phase::kRun) {
    shared_->inserts->Acknowledge(op.keynum);
  }
  if (op.measured) {
    const uint64_t latency = now > op.intended_ns ? now - op.intended_ns : 0;
    std::lock_guard<std::mutex> lock(stats_->mu);
    stats_->latency[static_cast<size_t>(op.type)].Record(latency);
    stats_->all.Record(latency);
    ++stats_->ops;
    if (!ok) {
      ++stats_->errors[error_kind];
      ++stats_->error_count;
    }
    stats_->last_completion_ns = std::max(stats_->last_completion_ns, now);
  }
  MaybeFinish();
}

std::optional<Worker::Op> Worker::NewOp(uint64_t intended_ns) {
  if (done_issuing_) return std::nullopt;
  if (g_stop_requested.load(std::memory_order_relaxed) || intended_ns >= shared_->measure_end_ns) {
    done_issuing_ = true;
    return std::nullopt;
  }
  Op op;
  op.intended_ns = intended_ns;
  if (config_.phase == RunConfig::Phase::kLoad) {
    op.keynum = shared_->load_next.fetch_add(1, std::memory_order_relaxed);
    if (op.keynum >= config_.records) {
      done_issuing_ = true;
      return std::nullopt;
    }
    op.type = OpType::kInsert;
    op.measured = true;
    op.key = KeyName(op.keynum);
    return op;
  }
  if (intended_ns >= shared_->measure_start_ns) {
    if (config_.ops > 0 && shared_->tickets.fetch_sub(1, std::memory_order_relaxed) <= 0) {
      done_issuing_ = true;
      return std::nullopt;
    }
    op.measured = true;
  }
  if (config_.phase == RunConfig::Phase::kPing) {
    op.type = OpType::kPing;
    return op;
  }
  op.type = config_.workload.Choose(random_);
  op.keynum = op.type == OpType::kInsert ? shared_->inserts->Next() : chooser_.Next(random_);
  op.key = KeyName(op.keynum);
  return op;
}

void Worker::Send(Conn* conn, Op op) {
  Request request;
  request.key = op.key;
  switch (op.type) {
    case OpType::kRead:
      request.kind = RequestKind::kGet;
      break;
    case OpType::kUpdate:
    case OpType::kInsert:
      request.kind = RequestKind::kPut;
      break;
    case OpType::kReadModifyWrite:
      request.kind = op.second_stage ? RequestKind::kPut : RequestKind::kGet;
      request.want_context = !op.second_stage;
      request.context = op.context;
      request.if_match = op.second_stage;
      break;
    case OpType::kPing:
      request.kind = RequestKind::kPing;
      break;
  }
  if (request.kind == RequestKind::kPut) {
    const size_t offset = random_.Uniform(kValuePoolSlack);
    request.value = std::string_view(shared_->value_pool).substr(offset, config_.value_size);
  }
  op.id = conn->next_id++;
  conn->protocol->Encode(op.id, request, &conn->out);
  op.sent_ns = NowNs();
  conn->pending.push_back(std::move(op));
  if (!conn->dirty) {
    conn->dirty = true;
    dirty_.push_back(conn);
  }
}

void Worker::Refill() {
  if (open_loop_) {
    DrainOpenLoop();
    return;
  }
  for (auto& conn : conns_) RefillClosed(conn.get());
}

void Worker::RefillClosed(Conn* conn) {
  while (conn->connected && conn->pending.size() < conn->max_in_flight && !done_issuing_) {
    std::optional<Op> op = NewOp(NowNs());
    if (!op) break;
    Send(conn, std::move(*op));
  }
}

void Worker::DrainOpenLoop() {
  const uint64_t now = NowNs();
  while (!done_issuing_) {
    const uint64_t due =
        shared_->start_ns + static_cast<uint64_t>(static_cast<double>(sent_) * period_ns_);
    if (due > now) {
      timeval wait{};
      const uint64_t ns = due - now;
      wait.tv_sec = static_cast<time_t>(ns / kNsPerSec);
      wait.tv_usec = static_cast<suseconds_t>((ns % kNsPerSec) / 1000);
      event_add(tick_, &wait);
      return;
    }
    // The next connection with a free slot; none free means the request
    // waits (its latency keeps counting from `due`) until a reply frees one.
    Conn* free_conn = nullptr;
    for (size_t i = 0; i < conns_.size() && free_conn == nullptr; ++i) {
      Conn* conn = conns_[(next_conn_ + i) % conns_.size()].get();
      if (conn->connected && conn->pending.size() < conn->max_in_flight) free_conn = conn;
    }
    if (free_conn == nullptr) return;
    next_conn_ = (next_conn_ + 1) % conns_.size();
    std::optional<Op> op = NewOp(due);
    if (!op) return;
    ++sent_;
    Send(free_conn, std::move(*op));
  }
}

void Worker::OnTick(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  self->DrainOpenLoop();
  self->FlushDirty();
}

size_t Worker::InFlight() const {
  size_t total = 0;
  for (const auto& conn : conns_) total += conn->pending.size();
  return total;
}

void Worker::MaybeFinish() {
  if (done_issuing_ && InFlight() == 0) event_base_loopbreak(base_);
}

void Worker::OnHousekeeping(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  const uint64_t now = NowNs();
  if (g_stop_requested.load(std::memory_order_relaxed) || now >= self->shared_->measure_end_ns) {
    self->done_issuing_ = true;
  }
  const auto timeout_ns = static_cast<uint64_t>(self->config_.client_timeout_s * kNsPerSec);
  for (auto& conn : self->conns_) {
    if (!conn->pending.empty() && now - conn->pending.front().sent_ns > timeout_ns) {
      self->Fail(conn.get(), "client_timeout");
    }
  }
  // Closed loop with every connection down: nothing else would notice the end.
  if (!self->open_loop_) self->Refill();
  self->FlushDirty();
  self->MaybeFinish();
}

Status Resolve(const Endpoint& endpoint, sockaddr_storage* address, socklen_t* length) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(endpoint.port);
  const int rc = getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    return Status::InvalidArgument("cannot resolve " + endpoint.host + ": " + gai_strerror(rc));
  }
  std::memcpy(address, found->ai_addr, found->ai_addrlen);
  *length = found->ai_addrlen;
  freeaddrinfo(found);
  return Status::OK();
}

// A connect with a deadline, so that an unreachable target fails the run at
// once instead of showing up as a run full of errors.
// The TLS handshake on a connected non-blocking socket, within 2 s: a node
// that does not speak TLS, or whose certificate the CA did not sign, fails
// here with OpenSSL's reason instead of in every connection of the run.
Status ProbeTls(int fd, const TlsContext& tls, const Endpoint& endpoint) {
  SSL* ssl = tls.NewSsl();
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
    if (ssl != nullptr) SSL_free(ssl);
    return Status::IOError(TakeTlsErrors("cannot make a TLS session"));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    const int rc = SSL_connect(ssl);
    if (rc == 1) break;
    const int error = SSL_get_error(ssl, rc);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if ((error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) || left.count() <= 0) {
      SSL_free(ssl);
      return Status::Unavailable("TLS handshake with " + endpoint.ToString() + " failed: " +
                                 TakeTlsErrors(left.count() <= 0 ? "no answer within 2 s (not a TLS node?)"
                                                                 : "the node closed the "
                                                                   "connection (not TLS?)"));
    }
    pollfd pfd{fd, static_cast<short>(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
    poll(&pfd, 1, static_cast<int>(left.count()));
  }
  SSL_free(ssl);
  return Status::OK();
}

Status Probe(const Endpoint& endpoint, const sockaddr_storage& address, socklen_t length,
             const TlsContext* tls) {
  const int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError("socket: " + std::string(strerror(errno)));
  int rc = connect(fd, reinterpret_cast<const sockaddr*>(&address), length);
  int error = rc == 0 ? 0 : errno;
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd pfd{fd, POLLOUT, 0};
    rc = poll(&pfd, 1, 2000);
    socklen_t len = sizeof(error);
    if (rc == 1) {
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    } else {
      error = ETIMEDOUT;
    }
  }
  if (error != 0) {
    close(fd);
    return Status::Unavailable("cannot connect to " + endpoint.ToString() + ": " + strerror(error));
  }
  const Status handshake = tls != nullptr ? ProbeTls(fd, *tls, endpoint) : Status::OK();
  close(fd);
  return handshake;
}

std::string FormatCount(double value) {
  std::string digits = std::to_string(static_cast<uint64_t>(value + 0.5));
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return digits;
}

}  // namespace

void RequestStop() { g_stop_requested.store(true); }

Result<RunResult> Run(const RunConfig& config) {
  g_stop_requested.store(false);
  Shared shared;
  shared.config = &config;
  for (const Endpoint& endpoint : config.endpoints) {
    sockaddr_storage address{};
    socklen_t length = 0;
    RINGKV_RETURN_IF_ERROR(Resolve(endpoint, &address, &length));
    RINGKV_RETURN_IF_ERROR(Probe(endpoint, address, length, config.tls.get()));
    shared.addresses.push_back(address);
    shared.address_lengths.push_back(length);
  }
  Random pool_random(config.seed);
  shared.value_pool.resize(config.value_size + kValuePoolSlack);
  for (char& c : shared.value_pool) c = static_cast<char>('a' + pool_random.Uniform(26));
  shared.inserts = std::make_unique<InsertCounter>(config.records);
  shared.tickets.store(config.ops);

  const int threads = std::max(1, std::min(config.threads, config.concurrency));
  int connections = config.connections > 0 ? config.connections : config.concurrency;
  connections = std::clamp(connections, threads, config.concurrency);

  shared.start_ns = NowNs();
  const bool load = config.phase == RunConfig::Phase::kLoad;
  const double warmup_s = load ? 0 : config.warmup_s;
  shared.measure_start_ns = shared.start_ns + static_cast<uint64_t>(warmup_s * kNsPerSec);
  if (config.ops == 0 && !load) {
    shared.measure_end_ns =
        shared.measure_start_ns + static_cast<uint64_t>(config.duration_s * kNsPerSec);
  }

  std::vector<std::unique_ptr<ThreadStats>> stats;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < threads; ++t) {
    stats.push_back(std::make_unique<ThreadStats>());
    const int slots = config.concurrency / threads + (t < config.concurrency % threads);
    const int conns = connections / threads + (t < connections % threads);
    workers.push_back(std::make_unique<Worker>(&shared, stats.back().get(), t, slots, conns));
  }
  CpuTimes cpu_start = CpuTimes::Now(config.server_pids);
  std::vector<double> per_second, server_cpu_per_second;
  bool cpu_started = warmup_s <= 0;
  // The servers' CPU seconds at the last tick; the progress loop's own.
  Result<CpuSeconds> last_server_cpu = Status::NotFound("no server pids");
  if (!config.server_pids.empty()) last_server_cpu = ReadProcessCpu(config.server_pids);

  std::mutex done_mu;
  std::condition_variable done_cv;
  int running = threads;
  std::vector<std::thread> pool;
  for (auto& worker : workers) {
    pool.emplace_back([&, w = worker.get()] {
      w->Run();
      std::lock_guard<std::mutex> lock(done_mu);
      --running;
      done_cv.notify_all();
    });
  }

  // Progress: one line a second until every worker is done.
  const auto clock_start = std::chrono::steady_clock::now();
  const auto measure_start =
      clock_start + std::chrono::nanoseconds(shared.measure_start_ns - shared.start_ns);
  int tick = 0;
  uint64_t last_completed = 0;
  auto last_time = clock_start;
  for (;;) {
    auto wake = clock_start + std::chrono::seconds(tick + 1);
    if (!cpu_started) wake = std::min(wake, measure_start);
    {
      std::unique_lock<std::mutex> lock(done_mu);
      if (done_cv.wait_until(lock, wake, [&] { return running == 0; })) break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!cpu_started && now >= measure_start) {
      cpu_start = CpuTimes::Now(config.server_pids);
      cpu_started = true;
    }
    if (now < clock_start + std::chrono::seconds(tick + 1)) continue;
    ++tick;
    uint64_t completed = 0, errors = 0;
    Histogram all;
    for (auto& s : stats) {
      completed += s->completed.load(std::memory_order_relaxed);
      std::lock_guard<std::mutex> lock(s->mu);
      all.Merge(s->all);
      errors += s->error_count;
    }
    const double interval = std::chrono::duration<double>(now - last_time).count();
    const double rate = (completed - last_completed) / interval;
    last_completed = completed;
    last_time = now;
    double server_cpu = -1;  // unknown
    if (last_server_cpu.ok()) {
      Result<CpuSeconds> cpu = ReadProcessCpu(config.server_pids);
      if (cpu.ok()) server_cpu = (cpu->total() - last_server_cpu->total()) / interval;
      last_server_cpu = std::move(cpu);
    }
    // A second that began before warm-up ended is not a measured second.
    if (now - std::chrono::seconds(1) >= measure_start - std::chrono::milliseconds(50)) {
      per_second.push_back(rate);
      if (server_cpu >= 0) server_cpu_per_second.push_back(server_cpu);
    }
    if (config.progress) {
      const bool warming = now < measure_start;
      char p99[32] = "-";
      if (all.count() > 0) {
        std::snprintf(p99, sizeof(p99), "%.3f ms", all.ValueAtQuantile(0.99) / 1e6);
      }
      std::printf("[%4ds] %-7s ops/s %10s   p99 so far %10s   errors %s\n", tick,
                  warming ? "warm-up" : (load ? "load" : "run"), FormatCount(rate).c_str(), p99,
                  FormatCount(static_cast<double>(errors)).c_str());
      std::fflush(stdout);
    }
  }
  for (auto& thread : pool) thread.join();
  const CpuTimes cpu_end = CpuTimes::Now(config.server_pids);

  RunResult result;
  uint64_t last_completion = shared.measure_start_ns;
  for (auto& s : stats) {
    for (size_t i = 0; i < s->latency.size(); ++i) result.latency_ns[i].Merge(s->latency[i]);
    for (const auto& [kind, count] : s->errors) result.errors[kind] += count;
    result.ops += s->ops;
    result.error_count += s->error_count;
    result.sibling_reads += s->sibling_reads;
    result.conditional_retries += s->conditional_retries;
    result.max_siblings_read = std::max(result.max_siblings_read, s->max_siblings_read);
    result.largest_object_read = std::max(result.largest_object_read, s->largest_object_read);
    last_completion = std::max(last_completion, s->last_completion_ns);
  }
  result.seconds = static_cast<double>(last_completion - shared.measure_start_ns) / kNsPerSec;
  if (server_cpu_per_second.size() == per_second.size()) {
    result.server_cpu_per_second = std::move(server_cpu_per_second);
  }
  result.per_second = std::move(per_second);
  if (cpu_started) {
    result.cpu_user_s = cpu_end.user - cpu_start.user;
    result.cpu_sys_s = cpu_end.sys - cpu_start.sys;
    if (cpu_start.servers.ok() && cpu_end.servers.ok()) {
      result.server_cpu_known = true;
      result.server_cpu_user_s = cpu_end.servers->user - cpu_start.servers->user;
      result.server_cpu_sys_s = cpu_end.servers->sys - cpu_start.servers->sys;
    }
  }
  return result;
}

}  // namespace ringkv::bench
