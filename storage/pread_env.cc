#include "storage/pread_env.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

namespace ringkv {
namespace {

leveldb::Status IoError(const std::string& filename, int error) {
  return leveldb::Status::IOError(filename, std::strerror(error));
}

int OpenReadOnly(const std::string& filename) {
  int fd;
  do {
    fd = ::open(filename.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

class PreadFile : public leveldb::RandomAccessFile {
 public:
  // `fd` is an open descriptor this file owns (one of `fds_left`'s), or -1
  // to open the file on each read.
  PreadFile(std::string filename, int fd, std::atomic<int>* fds_left)
      : filename_(std::move(filename)), fd_(fd), fds_left_(fds_left) {}

  ~PreadFile() override {
    if (fd_ >= 0) {
      ::close(fd_);
      fds_left_->fetch_add(1, std::memory_order_relaxed);
    }
  }

  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                       char* scratch) const override {
    *result = leveldb::Slice();
    const int fd = fd_ >= 0 ? fd_ : OpenReadOnly(filename_);
    if (fd < 0) return IoError(filename_, errno);
    // A regular file gives everything asked for in one call unless the read
    // reaches its end; the loop is for signals and the kernel's per-call cap.
    size_t done = 0;
    leveldb::Status status;
    while (done < n) {
      const ssize_t got = ::pread(fd, scratch + done, n - done, static_cast<off_t>(offset + done));
      if (got < 0) {
        if (errno == EINTR) continue;
        status = IoError(filename_, errno);
        break;
      }
      if (got == 0) break;  // end of file: a short read, not an error
      done += static_cast<size_t>(got);
    }
    if (fd != fd_) ::close(fd);
    if (status.ok()) *result = leveldb::Slice(scratch, done);
    return status;
  }

 private:
  const std::string filename_;
  const int fd_;
  std::atomic<int>* const fds_left_;
};

}  // namespace

PreadEnv::PreadEnv(leveldb::Env* target, int max_open_fds)
    : leveldb::EnvWrapper(target), fds_left_(max_open_fds) {}

int PreadEnv::DefaultMaxOpenFds() {
  rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 50;  // LevelDB's fallback
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur / 2 > INT_MAX) return INT_MAX;
  // The other half is left for sockets, logs and LevelDB's own files.
  return static_cast<int>(limit.rlim_cur / 2);
}

leveldb::Status PreadEnv::NewRandomAccessFile(const std::string& filename,
                                              leveldb::RandomAccessFile** result) {
  *result = nullptr;
  const int fd = OpenReadOnly(filename);
  if (fd < 0) return IoError(filename, errno);
  if (fds_left_.fetch_sub(1, std::memory_order_relaxed) > 0) {
    *result = new PreadFile(filename, fd, &fds_left_);
  } else {
    // Over budget: the open above only checked that the file exists.
    fds_left_.fetch_add(1, std::memory_order_relaxed);
    ::close(fd);
    *result = new PreadFile(filename, -1, &fds_left_);
  }
  return leveldb::Status::OK();
}

}  // namespace ringkv
