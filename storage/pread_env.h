// PreadEnv: a LevelDB Env that reads table files with pread(2) instead of
// mapping them.
//
// LevelDB 1.23's default Env maps up to 1,000 table files read-only, so
// every table page a read or a compaction touches counts in the node's
// resident set (docs/performance.md, Memory). Read with pread, the same
// pages stay in the kernel's page cache, outside the process, as RocksDB
// does by default. Everything else is forwarded to the wrapped Env.
//
// Thread-safe, like every leveldb::Env: LevelDB reads one file from several
// threads at once (pread has no shared file offset).
#pragma once

#include <leveldb/env.h>

#include <atomic>
#include <string>

namespace ringkv {

class PreadEnv : public leveldb::EnvWrapper {
 public:
  // Forwards everything but NewRandomAccessFile to `target`, which must
  // outlive this Env. Files opened through it keep their descriptor open
  // while fewer than `max_open_fds` are held (by default half of
  // RLIMIT_NOFILE, as LevelDB's own pread path does); beyond that, each
  // read opens and closes the file. The Env must outlive every file it
  // returns, hence the database opened with it.
  explicit PreadEnv(leveldb::Env* target, int max_open_fds = DefaultMaxOpenFds());

  // A file read with pread(2). Errors, including a missing file, are
  // IOError naming the file and the system error: for a table LevelDB
  // already listed, absence is damage, not a NotFound a caller could take
  // for a missing key.
  leveldb::Status NewRandomAccessFile(const std::string& filename,
                                      leveldb::RandomAccessFile** result) override;

  static int DefaultMaxOpenFds();

 private:
  // Descriptors still available to files; shared with them.
  std::atomic<int> fds_left_;
};

}  // namespace ringkv
