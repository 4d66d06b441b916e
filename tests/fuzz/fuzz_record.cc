// What a node reads back from its disk (docs/storage-format.md): the record
// envelope, the object inside it, and the storage keys naming it. The
// envelope's checksum stops random bytes, so the input is also decoded as
// an object body directly, as if its checksum had matched.
#include <string>
#include <string_view>

#include "causality/object_codec.h"
#include "storage/keys.h"
#include "storage/record.h"
#include "tests/fuzz/targets.h"

namespace ringkv::fuzz {
namespace {

void CheckObject(std::string_view bytes) {
  Result<Object> object = DecodeObject(bytes);
  if (!object.ok()) return;
  RINGKV_FUZZ_CHECK(CheckInvariants(*object).empty());
  const std::string encoded = EncodeObject(*object);
  Result<Object> again = DecodeObject(encoded);
  RINGKV_FUZZ_CHECK(again.ok());
  RINGKV_FUZZ_CHECK(*again == *object);
  RINGKV_FUZZ_CHECK(EncodeObject(*again) == encoded);
}

}  // namespace

int FuzzRecord(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  Result<std::string_view> body = DecodeRecord(input);
  if (body.ok()) {
    RINGKV_FUZZ_CHECK(body->data() == input.data() + kRecordHeaderSize);
    RINGKV_FUZZ_CHECK(EncodeRecord(*body) == input);
    CheckObject(*body);
  }
  CheckObject(input);

  // One key, one byte string: a key that parses is the one its parts make.
  uint32_t partition = 0;
  std::string bucket, key, target;
  if (ParseObjectKey(input, &partition, &bucket, &key).ok()) {
    RINGKV_FUZZ_CHECK(ObjectKey(partition, bucket, key) == input);
  }
  if (ParseHintKey(input, &target, &partition, &bucket, &key).ok()) {
    RINGKV_FUZZ_CHECK(HintKey(target, partition, bucket, key) == input);
  }
  return 0;
}

}  // namespace ringkv::fuzz
