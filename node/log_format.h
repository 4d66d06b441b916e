// How ringkv-node writes its log: spdlog's text for a person at a terminal,
// or one record per line as JSON or logfmt for a log collector (a container
// platform reads the process's stdout and parses each line).
#pragma once

#include <string>

#include "common/status.h"

namespace ringkv {

struct LogOptions {
  std::string format = "text";  // text | json | logfmt
  std::string level = "info";
  // Empty: stderr. "-": stdout. Anything else: a file, appended to.
  std::string file;
};

// Installs the default spdlog logger. A bad format or a file that cannot be
// opened is an error, before anything is logged.
Status ConfigureLogging(const LogOptions& options);

}  // namespace ringkv
