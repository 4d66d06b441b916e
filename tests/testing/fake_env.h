// A hand-driven world for unit tests of protocol code: a clock that moves
// only when told, a scheduler whose timers fire when the clock passes them,
// a transport that records what was sent (decoded) instead of sending it,
// a liveness view the test sets node by node, and a storage wrapper that
// fails reads on demand. With MemoryStorage and a seeded Random this is
// everything a Service, coordinator, replica or handoff needs, and each test
// decides exactly what arrives when. Single-threaded.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/liveness.h"
#include "common/scheduler.h"
#include "common/transport.h"
#include "proto/codec.h"
#include "proto/messages.h"
#include "storage/storage.h"

namespace ringkv::testing {

class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t mono_us = 1'000'000, int64_t wall_offset_us = 1'700'000'000'000'000)
      : mono_us_(mono_us), wall_offset_us_(wall_offset_us) {}
  int64_t WallMicros() override { return mono_us_ + wall_offset_us_; }
  int64_t MonoMicros() override { return mono_us_; }
  void Set(int64_t mono_us) { mono_us_ = mono_us; }

 private:
  int64_t mono_us_;
  int64_t wall_offset_us_;
};

// Timers fire from Advance, in (time, creation) order, with the clock set to
// each timer's time.
class ManualScheduler : public Scheduler {
 public:
  explicit ManualScheduler(ManualClock* clock) : clock_(clock) {}
  TimerId RunAfter(int64_t delay_us, std::function<void()> fn) override {
    TimerId id = ++next_id_;
    timers_[{clock_->MonoMicros() + std::max<int64_t>(0, delay_us), id}] = std::move(fn);
    return id;
  }
  void Cancel(TimerId id) override {
    std::erase_if(timers_, [id](const auto& t) { return t.first.second == id; });
  }
  // Moves time forward by `us`, running every timer due on the way.
  void Advance(int64_t us) {
    const int64_t until = clock_->MonoMicros() + us;
    while (!timers_.empty() && timers_.begin()->first.first <= until) {
      auto it = timers_.begin();
      clock_->Set(it->first.first);
      std::function<void()> fn = std::move(it->second);
      timers_.erase(it);
      fn();
    }
    clock_->Set(until);
  }
  size_t pending() const { return timers_.size(); }

 private:
  ManualClock* clock_;
  TimerId next_id_ = 0;
  std::map<std::pair<int64_t, TimerId>, std::function<void()>> timers_;
};

class RecordingTransport : public Transport {
 public:
  struct Sent {
    NodeId to;
    Message message;
  };
  void Send(const NodeId& to, std::string bytes) override {
    if (unreachable_.count(to)) {
      // As the real transport drops a message to a peer it cannot connect to.
      NotifyLinkDown(to);
      return;
    }
    Result<Message> m = DecodeMessage(bytes);
    // Protocol code must only ever send what the codec accepts.
    if (!m.ok()) {
      undecodable_.push_back(to);
      return;
    }
    sent_.push_back({to, std::move(m).value()});
  }
  const std::vector<Sent>& sent() const { return sent_; }
  const std::vector<NodeId>& undecodable() const { return undecodable_; }
  // The messages of type T sent so far, in order.
  template <typename T>
  std::vector<Sent> Of() const {
    std::vector<Sent> out;
    for (const Sent& s : sent_) {
      if (std::holds_alternative<T>(s.message.body)) out.push_back(s);
    }
    return out;
  }
  void Clear() { sent_.clear(); }
  // No connection to `to` can be made from now on; the transport says so.
  void Unreachable(const NodeId& to) {
    unreachable_.insert(to);
    NotifyLinkDown(to);
  }

 private:
  std::vector<Sent> sent_;
  std::vector<NodeId> undecodable_;
  std::set<NodeId> unreachable_;
};

// Every node is up until the test says otherwise.
class ManualLiveness : public Liveness {
 public:
  bool IsUp(const NodeId& node) const override { return !down_.contains(node); }
  void SetDown(const NodeId& node) { down_.insert(node); }
  void SetUp(const NodeId& node) { down_.erase(node); }

 private:
  std::set<NodeId> down_;
};

// Wraps a Storage: reads fail with a chosen error (a disk that can no
// longer be read is not a disk without the key), and writes are counted,
// so a test can tell whether anything was written at all.
class FaultyStorage : public Storage {
 public:
  // `inner` must outlive this.
  explicit FaultyStorage(Storage* inner) : inner_(inner) {}
  Status Get(std::string_view key, std::string* value) override {
    if (!read_error_.ok()) return read_error_;
    return inner_->Get(key, value);
  }
  Status GetAt(const Snapshot& snapshot, std::string_view key, std::string* value) override {
    if (!read_error_.ok()) return read_error_;
    return inner_->GetAt(snapshot, key, value);
  }
  Status Write(const WriteBatch& batch, bool sync) override {
    ++writes_;
    return inner_->Write(batch, sync);
  }
  std::unique_ptr<Snapshot> GetSnapshot() override { return inner_->GetSnapshot(); }
  std::unique_ptr<Iterator> NewIterator(const IteratorOptions& options) override {
    if (!read_error_.ok()) return NewErrorIterator(read_error_);
    return inner_->NewIterator(options);
  }
  // Every later read (Get, GetAt, iterators and so Scan) fails with
  // `error`, until called again with Status::OK().
  void SetReadError(Status error) { read_error_ = std::move(error); }
  // Write calls so far, failed ones included.
  size_t writes() const { return writes_; }

 private:
  Storage* inner_;
  Status read_error_;
  size_t writes_ = 0;
};

}  // namespace ringkv::testing
