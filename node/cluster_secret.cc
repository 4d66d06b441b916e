#include "node/cluster_secret.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ringkv {
namespace {

std::string Trim(const std::string& s) {
  const char* space = " \t\r\n";
  const size_t begin = s.find_first_not_of(space);
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(space) - begin + 1);
}

struct ClosedOnExit {
  int fd;
  ~ClosedOnExit() { ::close(fd); }
};

std::string Octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

Result<std::string> ReadClusterSecret(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
  const ClosedOnExit closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return Status::IOError("cannot stat " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + " is not a regular file");
  // PostgreSQL's rule for its key file: no access for group and others, or,
  // for a file owned by root, read access for its group at most. The second
  // is what a Kubernetes secret volume with an fsGroup gives (root, 0440).
  const bool private_file = (st.st_mode & 077) == 0;
  const bool root_group_readable = st.st_uid == 0 && (st.st_mode & 037) == 0;
  if (!private_file && !root_group_readable) {
    return Status::InvalidArgument(path + " has mode " + Octal(st.st_mode) +
                                   ": group and others must have no access (chmod 600 " + path +
                                   "); a file owned by root may be readable by its group");
  }
  std::string content;
  char buf[1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError("cannot read " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    // Enough to tell it is too long, however large the file.
    if (content.size() > 2 * kMaxClusterSecretBytes) break;
  }
  std::string secret = Trim(content);
  if (secret.size() < kMinClusterSecretBytes || secret.size() > kMaxClusterSecretBytes) {
    return Status::InvalidArgument(path + " holds a secret of " + std::to_string(secret.size()) +
                                   " bytes; it must have " +
                                   std::to_string(kMinClusterSecretBytes) + " to " +
                                   std::to_string(kMaxClusterSecretBytes));
  }
  return secret;
}

Result<std::string> RandomClusterSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return Status::Internal("no random bytes for a cluster secret");
  }
  std::string text;
  static const char* kHex = "0123456789abcdef";
  for (unsigned char b : bytes) {
    text.push_back(kHex[b >> 4]);
    text.push_back(kHex[b & 15]);
  }
  return text;
}

Status CreateClusterSecret(const std::string& path) {
  Result<std::string> secret = RandomClusterSecret();
  if (!secret.ok()) return secret.status();
  std::string text = std::move(secret).value() + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot create " + path + ": " + std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Status::IOError("cannot write " + path + ": " + std::strerror(err));
  }
  return Status::OK();
}

}  // namespace ringkv
