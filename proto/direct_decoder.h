// The hot messages read straight from the frame's bytes: client and replica
// gets and puts and their replies (docs/wire-protocol.md, "Decoding and
// encoding"), the messages of nearly every operation. Cap'n Proto's reader
// costs about 3,700 instructions a message (a reader object, a
// bounds-checked call per field, an aligned copy of a frame body that is
// not word-aligned); this one reads the words where they lie, unaligned
// too (docs/performance.md, "Reading and writing the hot messages
// directly").
//
// It takes only what it can judge completely: a single-segment message of
// one of those types, every pointer the plain kind its field expects
// (a struct, a byte list, a struct list with its tag), in bounds, reading
// no more words in all than the message holds, and a value every check of
// the Cap'n Proto path accepts
// (protocol version, object version, sorted clocks, object invariants).
// Anything else (other types, far pointers, several segments, a refused
// value, anything hostile) gives nullopt, and the caller decodes with
// Cap'n Proto, whose verdict stands. So what this returns is always what
// Cap'n Proto's path returns for the same bytes; tests compare the two.
#pragma once

#include <optional>
#include <string_view>

#include "proto/messages.h"

namespace ringkv {

// REQUIRES: nothing; any byte string is accepted and judged.
std::optional<Message> DecodeDirect(std::string_view bytes);

}  // namespace ringkv
