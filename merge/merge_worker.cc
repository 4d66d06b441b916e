#include "merge/merge_worker.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capnp/message.h>

#include <algorithm>

#include "causality/object_limits.h"
#include "merge/merge_worker.capnp.h"
#include "merge/worker_frame.h"

extern char** environ;

namespace ringkv {
namespace {

namespace ws = worker_schema;

capnp::Data::Reader DataOf(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

std::string TextOf(capnp::Text::Reader t, size_t cap = 4096) {
  return std::string(t.begin(), std::min(t.size(), cap));
}

// "killed by SIGSEGV (signal 11)", "exited with status 1".
std::string DescribeExit(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    return std::string("killed by ") + (abbrev != nullptr ? std::string("SIG") + abbrev : "a signal") +
           " (signal " + std::to_string(sig) + ")";
  }
  return "exited with status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

}  // namespace

Result<std::unique_ptr<MergeWorker>> MergeWorker::Start(const std::string& path,
                                                        const MergeWorkerOptions& options,
                                                        const LawCheckOptions& laws) {
  auto refuse = [&path](const std::string& why) {
    return Status::InvalidArgument("merge plugin " + path + " refused: " + why);
  };
  std::unique_ptr<MergeWorker> w(new MergeWorker(options));
  // Hashed here, from the file's bytes: nothing the plugin runs decides it.
  Result<std::string> sha = FileSha256(path);
  if (!sha.ok()) return refuse(sha.status().message());
  w->info_.sha256 = std::move(*sha);
  w->info_.path = path;
  if (Status st = w->Spawn(); !st.ok()) return refuse(st.message());
  if (Status st = w->ReadHello(WorkerNowMicros() + options.start_deadline_us); !st.ok()) {
    const std::string ended = w->Stop();
    // The worker's own refusal (the loader's message) is said as it is.
    if (st.IsInvalidArgument()) return st;
    return refuse("its worker did not start (" + st.message() + "; " + ended + ")");
  }
  if (Status st = w->RunLawCheck(laws); !st.ok()) return refuse(st.message());
  return w;
}

MergeWorker::~MergeWorker() { Stop(); }

Status MergeWorker::Spawn() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0) {
    return Status::IOError(std::string("socketpair: ") + strerror(errno));
  }
  // The worker gets its end as descriptor 3 and nothing else of the node's:
  // no client socket, no database file.
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_adddup2(&files, fds[1], 3);
  posix_spawn_file_actions_addclosefrom_np(&files, 4);
  // Default signal actions and an empty mask, whatever the node set.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const std::string memory = std::to_string(options_.memory_bytes);
  const std::string cpu = std::to_string(options_.cpu_seconds);
  std::vector<std::string> args = {options_.binary, "--fd", "3", "--memory-bytes", memory,
                                   "--cpu-seconds", cpu, "--", info_.path};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  // A binary named without a directory is looked up on PATH, as a shell would.
  const int rc = posix_spawnp(&pid, options_.binary.c_str(), &files, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return Status::IOError("cannot start the merge worker " + options_.binary + ": " +
                           strerror(rc));
  }
  pid_ = pid;
  fd_ = fds[0];
  said_hello_ = false;
  started_at_us_ = WorkerNowMicros();
  ++starts_;
  return Status::OK();
}

Status MergeWorker::ReadHello(int64_t deadline_us) {
  Result<kj::Array<capnp::word>> frame = ReadWorkerFrame(fd_, deadline_us);
  if (!frame.ok()) return frame.status();
  Result<PluginInfo> hello = ReadWorkerMessage<ws::WorkerReply, PluginInfo>(
      *frame, [this](ws::WorkerReply::Reader r) -> Result<PluginInfo> {
        if (r.isRefused()) return Status::InvalidArgument(TextOf(r.getRefused()));
        if (!r.isHello() || r.getId() != 0) {
          return Status::Corruption("the merge worker's first frame is no hello");
        }
        const ws::Hello::Reader h = r.getHello();
        return PluginInfo{TextOf(h.getName(), 64), h.getVersion(), TextOf(h.getSha256(), 64),
                          info_.path};
      });
  if (!hello.ok()) return hello.status();
  if (!ValidPluginName(hello->name)) {
    return Status::Corruption("the merge worker said hello with an invalid name");
  }
  if (hello->sha256 != info_.sha256) {
    return Status::Corruption("the merge worker loaded a file with SHA-256 " + hello->sha256 +
                              ", not the " + info_.sha256 + " loaded at start (replaced?)");
  }
  if (starts_ > 1 && (hello->name != info_.name || hello->version != info_.version)) {
    return Status::Corruption("the merge worker's plugin is now " + hello->name + " version " +
                              std::to_string(hello->version));
  }
  info_.name = hello->name;
  info_.version = hello->version;
  said_hello_ = true;
  return Status::OK();
}

Status MergeWorker::RunLawCheck(const LawCheckOptions& laws) {
  capnp::MallocMessageBuilder message;
  ws::WorkerRequest::Builder req = message.initRoot<ws::WorkerRequest>();
  req.setId(next_id_++);
  ws::LawCheck::Builder check = req.initCheckLaws();
  check.setSamples(laws.samples);
  check.setSeed(laws.seed);
  check.setDeadlineMs(static_cast<uint64_t>(laws.deadline_ms));
  const int64_t deadline = WorkerNowMicros() + laws.deadline_ms * 1000;
  Status sent = WriteWorkerFrame(fd_, message, deadline);
  Result<kj::Array<capnp::word>> frame =
      sent.ok() ? ReadWorkerFrame(fd_, deadline) : Result<kj::Array<capnp::word>>(sent);
  if (!frame.ok()) {
    const std::string ended = Stop();
    if (frame.status().IsTimeout()) {
      return Status::InvalidArgument(info_.name + " did not finish the law check within " +
                                     std::to_string(laws.deadline_ms) +
                                     " ms (a merge that never returns?)");
    }
    return Status::InvalidArgument(info_.name + " crashed during the law check (its worker " +
                                   ended + ")");
  }
  // The broken law's message, empty when every law held.
  Result<std::string> broken = ReadWorkerMessage<ws::WorkerReply, std::string>(
      *frame, [](ws::WorkerReply::Reader r) -> Result<std::string> {
        if (r.isLawsOk()) return std::string();
        if (r.isLawsBroken() && r.getLawsBroken().size() > 0) return TextOf(r.getLawsBroken());
        return Status::Corruption("the merge worker answered the law check with no verdict");
      });
  if (!broken.ok()) {
    const std::string ended = Stop();
    return Status::InvalidArgument(broken.status().message() + " (its worker " + ended + ")");
  }
  if (!broken->empty()) return Status::InvalidArgument(*broken);
  return Status::OK();
}

std::string MergeWorker::Stop() {
  if (pid_ < 0) return "not running";
  // A worker that crashed is a zombie already: the kill is then a no-op and
  // the wait reports the crash.
  kill(pid_, SIGKILL);
  int status = 0;
  pid_t reaped;
  while ((reaped = waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  close(fd_);
  fd_ = -1;
  pid_ = -1;
  said_hello_ = false;
  return reaped < 0 ? std::string("not waited for: ") + strerror(errno) : DescribeExit(status);
}

Status MergeWorker::Failed(const Status& why) {
  const pid_t pid = pid_;
  const std::string ended = Stop();
  ++failures_in_a_row_;
  const int shift = static_cast<int>(std::min<uint32_t>(failures_in_a_row_ - 1, 30));
  respawn_at_us_ =
      WorkerNowMicros() + std::min(options_.backoff_max_us, options_.backoff_min_us << shift);
  const std::string what = "merge worker " + std::to_string(pid) + " of " + info_.name + ": " +
                           why.message() + " (" + ended + ")";
  return why.IsTimeout() ? Status::Timeout(what) : Status::Internal(what);
}

Result<std::string> MergeWorker::Merge(const std::vector<const Sibling*>& values) {
  const int64_t now = WorkerNowMicros();
  if (pid_ < 0) {
    if (now < respawn_at_us_) {
      return Status::Unavailable("the merge worker of " + info_.name + " restarts in " +
                                 std::to_string((respawn_at_us_ - now) / 1000) + " ms");
    }
    if (Status st = Spawn(); !st.ok()) {
      ++failures_in_a_row_;
      respawn_at_us_ = now + options_.backoff_max_us;
      return Status::Unavailable(st.message());
    }
  }
  if (!said_hello_) {
    // A worker still starting is not waited for: the loop has other work.
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 0) == 0) {
      if (now - started_at_us_ > options_.start_deadline_us) {
        return Failed(Status::Internal("did not start within " +
                                       std::to_string(options_.start_deadline_us / 1000) + " ms"));
      }
      return Status::Unavailable("the merge worker of " + info_.name + " is starting");
    }
    if (Status st = ReadHello(now + options_.call_deadline_us); !st.ok()) {
      return Failed(st.IsTimeout() ? st : Status::Internal("no hello: " + st.message()));
    }
  }
  Result<std::string> merged = Call(values);
  // A reply of any kind, a decline too, shows a worker that works.
  if (merged.ok() || merged.status().IsInvalidArgument() || merged.status().IsCorruption()) {
    failures_in_a_row_ = 0;
  }
  return merged;
}

Result<std::string> MergeWorker::Call(const std::vector<const Sibling*>& values) {
  size_t bytes = 0;
  for (const Sibling* s : values) bytes += s->value.size() + s->dot.actor.node.size() + 64;
  capnp::MallocMessageBuilder message(static_cast<unsigned>(bytes / sizeof(capnp::word) + 64));
  ws::WorkerRequest::Builder req = message.initRoot<ws::WorkerRequest>();
  const uint64_t id = next_id_++;
  req.setId(id);
  auto list = req.initMerge(static_cast<unsigned>(values.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    const Sibling& s = *values[i];
    ws::MergeSibling::Builder out = list[static_cast<unsigned>(i)];
    out.setValue(DataOf(s.value));
    out.setTimestampUs(s.timestamp_us);
    out.setDotNode(DataOf(s.dot.actor.node));
    out.setDotIncarnation(s.dot.actor.incarnation);
    out.setDotCounter(s.dot.counter);
  }
  const int64_t allowed = options_.call_deadline_us +
                          static_cast<int64_t>(bytes) * options_.deadline_us_per_mib / (1 << 20);
  const int64_t deadline = WorkerNowMicros() + allowed;
  auto late = [allowed] {
    return Status::Timeout("passed the " + std::to_string(allowed / 1000) + " ms deadline; killed");
  };
  if (Status st = WriteWorkerFrame(fd_, message, deadline); !st.ok()) {
    if (st.IsInvalidArgument()) return st;  // too large to send: nothing was called
    return Failed(st.IsTimeout() ? late() : st);
  }
  Result<kj::Array<capnp::word>> frame = ReadWorkerFrame(fd_, deadline);
  if (!frame.ok()) {
    if (frame.status().IsTimeout()) return Failed(late());
    return Failed(frame.status().IsIOError() ? Status::Internal("crashed") : frame.status());
  }
  // What the reply says, or why it is garbage (then the worker is killed).
  struct Reply {
    Status status;
    std::string merged;
  };
  Result<Reply> reply = ReadWorkerMessage<ws::WorkerReply, Reply>(
      *frame, [id](ws::WorkerReply::Reader r) -> Result<Reply> {
        if (r.getId() != id) return Status::Corruption("a reply to another request");
        switch (r.which()) {
          case ws::WorkerReply::MERGED: {
            const capnp::Data::Reader d = r.getMerged();
            if (d.size() > kMaxValueBytes) return Status::Corruption("a merged value too large");
            return Reply{Status::OK(), std::string(reinterpret_cast<const char*>(d.begin()),
                                                   d.size())};
          }
          case ws::WorkerReply::DECLINED:
            return Reply{Status::InvalidArgument("merge plugin declined: " +
                                                 PluginCodeName(r.getDeclined())),
                         {}};
          case ws::WorkerReply::INVALID_OUTPUT:
            return Reply{Status::Corruption(TextOf(r.getInvalidOutput())), {}};
          default:
            return Status::Corruption("a reply that is no merge");
        }
      });
  if (!reply.ok()) return Failed(Status::Internal("spoke garbage: " + reply.status().message()));
  if (!reply->status.ok()) return reply->status;
  return std::move(reply->merged);
}

}  // namespace ringkv
