#include "causality/direct_reader.h"

#include <utility>
#include <vector>

#include "causality/object_codec.h"

namespace ringkv::direct {
namespace {

bool ReadObjectStruct(Segment& s, const StructRef& r, Object* out) {
  if ((static_cast<uint16_t>(DataWord(s, r, 0)) ^ 1u) != kObjectVersion) return false;
  ListRef context, siblings;
  if (!PointerStructs(s, r, 0, &context) || !PointerStructs(s, r, 1, &siblings)) return false;
  std::vector<VersionVector::Entry> entries;
  entries.reserve(context.count);
  for (uint32_t e = 0; e < context.count; ++e) {
    const StructRef entry = context.at(e);
    Actor actor;
    if (!ReadActor(s, entry, &actor)) return false;
    const uint64_t counter = DataWord(s, entry, 0);
    if (counter == 0 || (!entries.empty() && !(entries.back().first < actor))) return false;
    entries.emplace_back(std::move(actor), counter);
  }
  Object object;
  object.context = VersionVector(std::move(entries));
  object.siblings.resize(siblings.count);
  for (uint32_t e = 0; e < siblings.count; ++e) {
    const StructRef sr = siblings.at(e);
    Sibling& sib = object.siblings[e];
    if (!ReadActor(s, sr, &sib.dot.actor) || !PointerBlob(s, sr, 1, /*text=*/false, &sib.value)) {
      return false;
    }
    sib.dot.counter = DataWord(s, sr, 0);
    sib.timestamp_us = static_cast<int64_t>(DataWord(s, sr, 1));
    sib.tombstone = Bit(s, sr, 128);
    sib.write_id = WriteId{DataWord(s, sr, 3), DataWord(s, sr, 4)};
  }
  if (!CheckInvariants(object).empty()) return false;
  *out = std::move(object);
  return true;
}

}  // namespace

bool ReadObject(Segment& s, const StructRef& parent, uint32_t i, Object* out) {
  StructRef r;
  return PointerStruct(s, parent, i, &r) && ReadObjectStruct(s, r, out);
}

bool ReadRootObject(Segment& s, Object* out) {
  StructRef r;
  return s.Struct(0, &r) && ReadObjectStruct(s, r, out);
}

}  // namespace ringkv::direct
