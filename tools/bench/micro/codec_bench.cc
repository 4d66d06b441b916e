// Message encode and decode: every request, reply and replica message goes
// through EncodeMessage/DecodeMessage and a frame (proto/codec.h, frame.h).
#include <benchmark/benchmark.h>

#include <string>

#include "causality/object_codec.h"
#include "proto/codec.h"
#include "proto/frame.h"
#include "proto/messages.h"
#include "tools/bench/key_chooser.h"

namespace ringkv::bench {
namespace {

Message PutMessage(size_t value_size) {
  PutRequest put;
  put.bucket = "bench";
  put.key = KeyName(42);
  put.value = std::string(value_size, 'v');
  put.w = 2;
  return Message{7, "", 0, put};
}

Message ReplicaPutMessage() {
  Object object;
  object = Update(std::move(object), {}, Actor{"node1", 1}, 1000, false, std::string(100, 'v'));
  return Message{8, "node1", 500, ReplicaPutRequest{"bench", KeyName(42), object, {}}};
}

void BM_EncodePutRequest(benchmark::State& state) {
  const Message m = PutMessage(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(EncodeMessage(m));
}
BENCHMARK(BM_EncodePutRequest)->Arg(100)->Arg(4096);

void BM_DecodePutRequest(benchmark::State& state) {
  const std::string bytes = EncodeMessage(PutMessage(static_cast<size_t>(state.range(0))));
  for (auto _ : state) benchmark::DoNotOptimize(DecodeMessage(bytes));
}
BENCHMARK(BM_DecodePutRequest)->Arg(100)->Arg(4096);

void BM_EncodeFrameReplicaPut(benchmark::State& state) {
  const Message m = ReplicaPutMessage();
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendFrame(EncodeMessage(m), &out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_EncodeFrameReplicaPut);

void BM_ParseFrameDecodeReplicaPut(benchmark::State& state) {
  std::string framed;
  AppendFrame(EncodeMessage(ReplicaPutMessage()), &framed);
  for (auto _ : state) {
    const FrameParse frame = ParseFrame(framed);
    benchmark::DoNotOptimize(DecodeMessage(frame.body));
  }
}
BENCHMARK(BM_ParseFrameDecodeReplicaPut);

void BM_EncodeDecodeObject(benchmark::State& state) {
  const Object object = std::get<ReplicaPutRequest>(ReplicaPutMessage().body).object;
  for (auto _ : state) benchmark::DoNotOptimize(DecodeObject(EncodeObject(object)));
}
BENCHMARK(BM_EncodeDecodeObject);

}  // namespace
}  // namespace ringkv::bench
