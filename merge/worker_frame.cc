#include "merge/worker_frame.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <capnp/serialize.h>

#include <algorithm>
#include <cstring>

namespace ringkv {
namespace {

// Waits until `fd` is ready for `events` or the deadline passes.
Status Await(int fd, short events, int64_t deadline_us) {
  for (;;) {
    int timeout_ms = -1;
    if (deadline_us >= 0) {
      const int64_t left = deadline_us - WorkerNowMicros();
      if (left <= 0) return Status::Timeout("the merge worker did not answer in time");
      timeout_ms = static_cast<int>(std::min<int64_t>((left + 999) / 1000, 60'000));
    }
    pollfd p{fd, events, 0};
    const int ready = poll(&p, 1, timeout_ms);
    if (ready > 0) return Status::OK();
    if (ready < 0 && errno != EINTR) {
      return Status::IOError(std::string("poll on the merge worker: ") + strerror(errno));
    }
  }
}

Status ReadFully(int fd, uint8_t* data, size_t len, int64_t deadline_us) {
  for (size_t done = 0; done < len;) {
    const ssize_t n = read(fd, data + done, len - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n == 0) {
      return Status::IOError("the merge worker closed its socket");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      RINGKV_RETURN_IF_ERROR(Await(fd, POLLIN, deadline_us));
    } else if (errno != EINTR) {
      return Status::IOError(std::string("read from the merge worker: ") + strerror(errno));
    }
  }
  return Status::OK();
}

Status WriteFully(int fd, const uint8_t* data, size_t len, int64_t deadline_us) {
  for (size_t done = 0; done < len;) {
    // send, not write: a worker that is gone must not raise SIGPIPE here.
    const ssize_t n = send(fd, data + done, len - done, MSG_NOSIGNAL);
    if (n >= 0) {
      done += static_cast<size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      RINGKV_RETURN_IF_ERROR(Await(fd, POLLOUT, deadline_us));
    } else if (errno != EINTR) {
      return Status::IOError(std::string("write to the merge worker: ") + strerror(errno));
    }
  }
  return Status::OK();
}

}  // namespace

int64_t WorkerNowMicros() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

Status WriteWorkerFrame(int fd, capnp::MessageBuilder& message, int64_t deadline_us) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  const kj::ArrayPtr<const kj::byte> body = words.asBytes();
  if (body.size() > kMaxWorkerFrameBytes) {
    return Status::InvalidArgument("a merge worker message of " + std::to_string(body.size()) +
                                   " bytes is over the frame limit");
  }
  const uint32_t len = static_cast<uint32_t>(body.size());
  const uint8_t header[4] = {static_cast<uint8_t>(len), static_cast<uint8_t>(len >> 8),
                             static_cast<uint8_t>(len >> 16), static_cast<uint8_t>(len >> 24)};
  RINGKV_RETURN_IF_ERROR(WriteFully(fd, header, sizeof header, deadline_us));
  return WriteFully(fd, body.begin(), body.size(), deadline_us);
}

Result<kj::Array<capnp::word>> ReadWorkerFrame(int fd, int64_t deadline_us) {
  uint8_t header[4];
  RINGKV_RETURN_IF_ERROR(ReadFully(fd, header, sizeof header, deadline_us));
  const size_t len = size_t{header[0]} | size_t{header[1]} << 8 | size_t{header[2]} << 16 |
                     size_t{header[3]} << 24;
  if (len == 0 || len % sizeof(capnp::word) != 0 || len > kMaxWorkerFrameBytes) {
    return Status::Corruption("a merge worker frame announced " + std::to_string(len) +
                              " bytes (0, not whole words, or over " +
                              std::to_string(kMaxWorkerFrameBytes) + ")");
  }
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>(len / sizeof(capnp::word));
  RINGKV_RETURN_IF_ERROR(
      ReadFully(fd, reinterpret_cast<uint8_t*>(words.begin()), len, deadline_us));
  return words;
}

}  // namespace ringkv
