#include "merge/law_check.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>
#include <vector>

#include "merge/collapse.h"
#include "merge/plugin_call.h"

namespace ringkv {
namespace {

uint64_t SplitMix(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Bytes as a reader can see them: printable ASCII as is, the rest \xNN, cut
// at 80 characters.
std::string Show(const std::string& bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    if (out.size() > 80) return out + "...\" (" + std::to_string(bytes.size()) + " bytes)";
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out + "\"";
}

std::string Show(const Sibling& s) {
  return Show(s.value) + " @" + std::to_string(s.timestamp_us) + "us dot " + s.dot.actor.node +
         "#" + std::to_string(s.dot.actor.incarnation) + ":" + std::to_string(s.dot.counter);
}

bool Same(const Sibling& a, const Sibling& b) {
  return a.value == b.value && a.timestamp_us == b.timestamp_us && a.dot == b.dot;
}

class Checker {
 public:
  explicit Checker(const rkv_merge_plugin& plugin) : plugin_(plugin) {}

  Result<Sibling> M(const std::vector<const Sibling*>& in) {
    Result<std::string> v = CallMerge(plugin_, in);
    if (!v.ok()) {
      std::string args;
      for (const Sibling* s : in) args += (args.empty() ? "" : ", ") + Show(*s);
      return Status::InvalidArgument("merge failed on its own samples (" + args +
                                     "): " + v.status().message());
    }
    return MergedSibling(in, std::move(*v));
  }

  Result<Sibling> Sample(uint64_t* rng) {
    Result<std::string> v = CallSample(plugin_, SplitMix(rng) % 64);
    if (!v.ok()) return v.status();
    Sibling s;
    // Few timestamps and dots, so that ties and dot collisions happen.
    s.timestamp_us = static_cast<int64_t>(SplitMix(rng) % 3);
    s.dot.actor.node = SplitMix(rng) % 2 == 0 ? "n1" : "n2";
    s.dot.actor.incarnation = 1 + SplitMix(rng) % 2;
    s.dot.counter = 1 + SplitMix(rng) % 3;
    s.value = std::move(*v);
    return s;
  }

  Status One(uint64_t* rng) {
    std::array<Sibling, 3> x;
    for (Sibling& s : x) {
      Result<Sibling> drawn = Sample(rng);
      if (!drawn.ok()) return drawn.status();
      s = std::move(*drawn);
    }
    const Sibling &a = x[0], &b = x[1], &c = x[2];
    auto broken = [](const std::string& law, const std::string& what, const std::string& with) {
      return Status::InvalidArgument("breaks the " + law + " law: " + what + " with " + with);
    };
#define RINGKV_M(var, ...)                 \
  Result<Sibling> var##_r = M(__VA_ARGS__); \
  if (!var##_r.ok()) return var##_r.status(); \
  const Sibling& var = *var##_r

    RINGKV_M(aa, {&a, &a});
    if (!Same(aa, a)) {
      return broken("idempotent", "merge(a, a) = " + Show(aa) + " != a", "a = " + Show(a));
    }
    RINGKV_M(ab, {&a, &b});
    RINGKV_M(ba, {&b, &a});
    if (!Same(ab, ba)) {
      return broken("commutative",
                    "merge(a, b) = " + Show(ab) + " != merge(b, a) = " + Show(ba),
                    "a = " + Show(a) + ", b = " + Show(b));
    }
    RINGKV_M(abab, {&ab, &ab});
    if (!Same(abab, ab)) {
      return broken("canonical bytes", "m = merge(a, b) = " + Show(ab) +
                                           " but merge(m, m) = " + Show(abab),
                    "a = " + Show(a) + ", b = " + Show(b));
    }
    RINGKV_M(bc, {&b, &c});
    RINGKV_M(ab_c, {&ab, &c});
    RINGKV_M(a_bc, {&a, &bc});
    if (!Same(ab_c, a_bc)) {
      return broken("associative",
                    "merge(merge(a, b), c) = " + Show(ab_c) + " != merge(a, merge(b, c)) = " +
                        Show(a_bc),
                    "a = " + Show(a) + ", b = " + Show(b) + ", c = " + Show(c));
    }
    std::array<const Sibling*, 3> order = {&a, &b, &c};
    std::sort(order.begin(), order.end());
    do {
      RINGKV_M(all, {order[0], order[1], order[2]});
      if (!Same(all, ab_c)) {
        return broken("n-ary equals fold",
                      "merge of three = " + Show(all) + " != merge(merge(a, b), c) = " +
                          Show(ab_c),
                      "a = " + Show(a) + ", b = " + Show(b) + ", c = " + Show(c));
      }
    } while (std::next_permutation(order.begin(), order.end()));
#undef RINGKV_M
    return Status::OK();
  }

 private:
  const rkv_merge_plugin& plugin_;
};

int64_t NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace

Status CheckLaws(const rkv_merge_plugin& plugin, const LawCheckOptions& options) {
  Checker checker(plugin);
  uint64_t rng = options.seed;
  for (uint32_t i = 0; i < options.samples; ++i) {
    Status st = checker.One(&rng);
    if (!st.ok()) {
      return Status::InvalidArgument(std::string(plugin.name) + " " + st.message() +
                                     " (sample " + std::to_string(i) + ")");
    }
  }
  return Status::OK();
}

Status CheckLawsIsolated(const rkv_merge_plugin& plugin, const LawCheckOptions& options) {
  const std::string name = plugin.name;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return Status::IOError(std::string("law check of ") + name + ": pipe: " + strerror(errno));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Status::IOError(std::string("law check of ") + name + ": fork: " + strerror(errno));
  }
  if (pid == 0) {
    close(fds[0]);
    // A backstop should the parent be gone: the child never outlives the
    // deadline by much.
    alarm(static_cast<unsigned>(options.deadline_ms / 1000 + 2));
    const Status st = CheckLaws(plugin, options);
    const std::string& text = st.message();
    for (size_t done = 0; done < text.size();) {
      const ssize_t n = write(fds[1], text.data() + done, text.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    _exit(st.ok() ? 0 : 1);
  }
  close(fds[1]);
  std::string message;
  const int64_t deadline = NowMs() + options.deadline_ms;
  bool timed_out = false;
  for (;;) {
    const int64_t left = deadline - NowMs();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    char buf[4096];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child closed its end: it ended
    message.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return Status::InvalidArgument(name + " did not finish the law check within " +
                                   std::to_string(options.deadline_ms) +
                                   " ms (a merge that never returns?)");
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    return Status::InvalidArgument(name + " crashed during the law check (signal " +
                                   std::to_string(sig) +
                                   (abbrev != nullptr ? std::string(", SIG") + abbrev : "") + ")");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::OK();
  if (message.empty()) message = name + " ended the law check with status " +
                                 std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return Status::InvalidArgument(message);
}

}  // namespace ringkv
