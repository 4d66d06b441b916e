// The frames between a node and its merge workers (merge/worker_frame.h)
// under hostile input from the worker's side: a frame round-trips; a
// length of 0, not whole words or over the cap is Corruption before
// anything is allocated; half a frame then the end of the stream is an
// IOError; silence is a Timeout at the deadline, not a wait past it; bytes
// that are no message are Corruption, not an exception.
#include "merge/worker_frame.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <capnp/message.h>

#include <cstring>
#include <vector>

#include "merge/merge_worker.capnp.h"

namespace ringkv::testing {
namespace {

namespace ws = worker_schema;

class WorkerFrameTest : public ::testing::Test {
 protected:
  WorkerFrameTest() {
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds_), 0);
  }
  ~WorkerFrameTest() override {
    close(fds_[0]);
    if (fds_[1] >= 0) close(fds_[1]);
  }
  void Raw(const std::vector<uint8_t>& bytes) {
    ASSERT_EQ(write(fds_[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  Result<kj::Array<capnp::word>> Read(int64_t wait_us = 2'000'000) {
    return ReadWorkerFrame(fds_[0], WorkerNowMicros() + wait_us);
  }
  int fds_[2] = {-1, -1};
};

TEST_F(WorkerFrameTest, AReplyRoundTrips) {
  capnp::MallocMessageBuilder message;
  auto reply = message.initRoot<ws::WorkerReply>();
  reply.setId(7);
  const std::string value(100'000, 'v');
  reply.setMerged(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(value.data()),
                                      value.size()));
  ASSERT_TRUE(WriteWorkerFrame(fds_[1], message, WorkerNowMicros() + 2'000'000).ok());
  Result<kj::Array<capnp::word>> frame = Read();
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  Result<std::string> merged = ReadWorkerMessage<ws::WorkerReply, std::string>(
      *frame, [](ws::WorkerReply::Reader r) -> Result<std::string> {
        EXPECT_EQ(r.getId(), 7u);
        return std::string(reinterpret_cast<const char*>(r.getMerged().begin()),
                           r.getMerged().size());
      });
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(*merged, value);
}

TEST_F(WorkerFrameTest, BadLengthsAreCorruptionBeforeAnythingIsRead) {
  for (const std::vector<uint8_t>& header :
       {std::vector<uint8_t>{0, 0, 0, 0}, std::vector<uint8_t>{12, 0, 0, 0},
        std::vector<uint8_t>{0xf8, 0xff, 0xff, 0x7f},
        std::vector<uint8_t>{0x08, 0x00, 0x40, 0x01}}) {
    Raw(header);
    Result<kj::Array<capnp::word>> frame = Read();
    EXPECT_TRUE(frame.status().IsCorruption()) << frame.status().ToString();
  }
}

TEST_F(WorkerFrameTest, HalfAFrameThenTheEndIsAnIOError) {
  Raw({16, 0, 0, 0, 1, 2, 3});
  close(fds_[1]);
  fds_[1] = -1;
  EXPECT_TRUE(Read().status().IsIOError());
}

TEST_F(WorkerFrameTest, SilenceIsATimeoutAtTheDeadline) {
  Raw({16, 0, 0, 0, 1, 2, 3});
  const int64_t start = WorkerNowMicros();
  EXPECT_TRUE(Read(100'000).status().IsTimeout());
  const int64_t waited = WorkerNowMicros() - start;
  EXPECT_GE(waited, 100'000);
  // Generous: the point is that it returns, not how fast.
  EXPECT_LT(waited, 5'000'000);
}

TEST_F(WorkerFrameTest, WordsThatAreNoMessageAreCorruption) {
  // A segment table announcing four segments of 2^31 words each.
  Raw({16, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0});
  Result<kj::Array<capnp::word>> frame = Read();
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  Result<uint64_t> id = ReadWorkerMessage<ws::WorkerReply, uint64_t>(
      *frame, [](ws::WorkerReply::Reader r) -> Result<uint64_t> { return r.getId(); });
  EXPECT_TRUE(id.status().IsCorruption()) << id.status().ToString();
}

TEST_F(WorkerFrameTest, WritingToAWorkerThatIsGoneIsAnIOErrorNotASignal) {
  close(fds_[1]);
  fds_[1] = -1;
  capnp::MallocMessageBuilder message;
  message.initRoot<ws::WorkerRequest>().setId(1);
  EXPECT_TRUE(WriteWorkerFrame(fds_[0], message, WorkerNowMicros() + 2'000'000).IsIOError());
}

}  // namespace
}  // namespace ringkv::testing
