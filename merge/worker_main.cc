// ringkv-merge-worker: runs one merge plugin outside the node
// (merge/merge_worker.h, docs/plugins.md "Worker mode").
//
//   ringkv-merge-worker --fd N --memory-bytes B --cpu-seconds S -- PLUGIN.so
//
// Started by the node, not by hand. Before the plugin's code is mapped it
// limits itself (address space B, no core files, killed with its parent),
// then loads the plugin, says hello on descriptor N and answers requests
// until the node closes the socket. A request it cannot read ends it: the
// node sent it, so something is badly wrong. Exit codes: 0 the node closed
// the socket, 1 the plugin was refused, 2 bad arguments, 3 a bad request.
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <capnp/message.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "merge/law_check.h"
#include "merge/merge_worker.capnp.h"
#include "merge/plugin_call.h"
#include "merge/plugin_loader.h"
#include "merge/worker_frame.h"

namespace ringkv {
namespace {

namespace ws = worker_schema;

struct Args {
  int fd = -1;
  uint64_t memory_bytes = 0;
  uint64_t cpu_seconds = 0;
  std::string plugin;
};

bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--" && i + 2 == argc) {
      args->plugin = argv[i + 1];
      return args->fd >= 0 && args->memory_bytes > 0 && args->cpu_seconds > 0;
    }
    if (i + 1 >= argc) return false;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(argv[++i], &end, 10);
    if (end == nullptr || *end != '\0') return false;
    if (a == "--fd") {
      args->fd = static_cast<int>(v);
    } else if (a == "--memory-bytes") {
      args->memory_bytes = v;
    } else if (a == "--cpu-seconds") {
      args->cpu_seconds = v;
    } else {
      return false;
    }
  }
  return false;
}

// The CPU this process may still use: what it used so far plus `seconds`.
// SIGXCPU ends it past that, should the node fail to.
void AllowCpu(uint64_t seconds) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  rlimit limit{};
  getrlimit(RLIMIT_CPU, &limit);
  const rlim_t used = static_cast<rlim_t>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + 1;
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, used + seconds);
  setrlimit(RLIMIT_CPU, &limit);
}

capnp::Data::Reader DataOf(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

std::string StringOf(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

int Send(int fd, capnp::MessageBuilder& message) {
  return WriteWorkerFrame(fd, message, -1).ok() ? 0 : 1;
}

void AnswerMerge(const rkv_merge_plugin& plugin, uint64_t cpu_seconds,
                 capnp::List<ws::MergeSibling>::Reader in, ws::WorkerReply::Builder reply) {
  std::vector<Sibling> siblings(in.size());
  std::vector<const Sibling*> views;
  for (unsigned i = 0; i < in.size(); ++i) {
    siblings[i].value = StringOf(in[i].getValue());
    siblings[i].timestamp_us = in[i].getTimestampUs();
    siblings[i].dot.actor.node = StringOf(in[i].getDotNode());
    siblings[i].dot.actor.incarnation = in[i].getDotIncarnation();
    siblings[i].dot.counter = in[i].getDotCounter();
    views.push_back(&siblings[i]);
  }
  AllowCpu(cpu_seconds);
  int code = RKV_OK;
  Result<std::string> merged = CallMerge(plugin, views, &code);
  if (merged.ok()) {
    reply.setMerged(DataOf(*merged));
  } else if (code != RKV_OK) {
    reply.setDeclined(code);
  } else {
    reply.setInvalidOutput(merged.status().message());
  }
}

int Serve(const Args& args) {
  const int fd = args.fd;
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) return 2;
  Result<std::unique_ptr<LoadedPlugin>> loaded = LoadedPlugin::Open(args.plugin);
  {
    capnp::MallocMessageBuilder message;
    ws::WorkerReply::Builder hello = message.initRoot<ws::WorkerReply>();
    hello.setId(0);
    if (!loaded.ok()) {
      hello.setRefused(loaded.status().message());
      Send(fd, message);
      return 1;
    }
    const PluginInfo& info = (*loaded)->info();
    ws::Hello::Builder h = hello.initHello();
    h.setName(info.name);
    h.setVersion(info.version);
    h.setSha256(info.sha256);
    if (Send(fd, message) != 0) return 0;
  }
  const rkv_merge_plugin& plugin = (*loaded)->api();
  for (;;) {
    Result<kj::Array<capnp::word>> frame = ReadWorkerFrame(fd, -1);
    if (!frame.ok()) return frame.status().IsIOError() ? 0 : 3;
    capnp::MallocMessageBuilder message;
    ws::WorkerReply::Builder reply = message.initRoot<ws::WorkerReply>();
    Status read = ReadWorkerMessage<ws::WorkerRequest, bool>(
                      *frame,
                      [&](ws::WorkerRequest::Reader req) -> Result<bool> {
                        reply.setId(req.getId());
                        if (req.isMerge()) {
                          AnswerMerge(plugin, args.cpu_seconds, req.getMerge(), reply);
                          return true;
                        }
                        if (!req.isCheckLaws()) return Status::Corruption("unknown request");
                        const ws::LawCheck::Reader c = req.getCheckLaws();
                        LawCheckOptions laws;
                        laws.samples = c.getSamples();
                        laws.seed = c.getSeed();
                        AllowCpu(c.getDeadlineMs() / 1000 + 1);
                        const Status st = CheckLaws(plugin, laws);
                        if (st.ok()) {
                          reply.setLawsOk();
                        } else {
                          reply.setLawsBroken(st.message());
                        }
                        return true;
                      })
                      .status();
    if (!read.ok()) {
      std::fprintf(stderr, "ringkv-merge-worker: %s\n", read.message().c_str());
      return 3;
    }
    if (Send(fd, message) != 0) return 0;
  }
}

}  // namespace
}  // namespace ringkv

int main(int argc, char** argv) {
  ringkv::Args args;
  if (!ringkv::ParseArgs(argc, argv, &args)) {
    std::fprintf(stderr,
                 "usage: ringkv-merge-worker --fd N --memory-bytes B --cpu-seconds S -- "
                 "PLUGIN.so (started by ringkv-node)\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  // Ends with the node, even in a merge that never returns.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  const rlimit memory{args.memory_bytes, args.memory_bytes};
  if (setrlimit(RLIMIT_AS, &memory) != 0) return 2;
  // Requests of megabytes come one after another: keep their memory for
  // the next instead of mapping (and faulting in) fresh pages each time.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  return ringkv::Serve(args);
}
