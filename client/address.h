// Node addresses as clients take them: lists of HOST:PORT
// (common/host_port.h). Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace ringkv {

// Splits a list given as repeated and/or comma-separated values
// ("a:1,b:2" and "c:3" -> a:1 b:2 c:3), dropping empty items and checking
// each with ParseHostPort.
Result<std::vector<std::string>> SplitAddressList(const std::vector<std::string>& items);

}  // namespace ringkv
