#include "node/log_format.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

namespace ringkv {
namespace {

// RFC 3339 in UTC with milliseconds: collectors parse it without a
// configured pattern, and nodes on hosts in different zones sort together.
std::string Timestamp(spdlog::log_clock::time_point time) {
  auto since_epoch = time.time_since_epoch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds);
  std::time_t t = seconds.count();
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[40];
  size_t n = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof(text) - n, ".%03dZ", static_cast<int>(millis.count()));
  return text;
}

std::string_view LevelName(spdlog::level::level_enum level) {
  auto name = spdlog::level::to_string_view(level);
  return {name.data(), name.size()};
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::ordered_json record = {
        {"time", Timestamp(msg.time)},
        {"level", LevelName(msg.level)},
        {"msg", std::string_view(msg.payload.data(), msg.payload.size())},
    };
    // A message quoting a peer's bytes may hold invalid UTF-8; the record
    // must still be one valid JSON line.
    std::string line = record.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// logfmt: key=value pairs; a value with a space, quote, '=' or control
// character is quoted, with backslash escapes.
void AppendLogfmtValue(std::string_view value, spdlog::memory_buf_t& dest) {
  bool quote = value.empty();
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      quote = true;
      break;
    }
  }
  if (!quote) {
    dest.append(value.data(), value.data() + value.size());
    return;
  }
  dest.push_back('"');
  for (char c : value) {
    switch (c) {
      case '"': dest.append(std::string_view("\\\"")); break;
      case '\\': dest.append(std::string_view("\\\\")); break;
      case '\n': dest.append(std::string_view("\\n")); break;
      case '\r': dest.append(std::string_view("\\r")); break;
      case '\t': dest.append(std::string_view("\\t")); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          int n = std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
          dest.append(escaped, escaped + n);
        } else {
          dest.push_back(c);
        }
    }
  }
  dest.push_back('"');
}

class LogfmtFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    dest.append(std::string_view("time="));
    std::string time = Timestamp(msg.time);
    dest.append(time.data(), time.data() + time.size());
    dest.append(std::string_view(" level="));
    AppendLogfmtValue(LevelName(msg.level), dest);
    dest.append(std::string_view(" msg="));
    AppendLogfmtValue(std::string_view(msg.payload.data(), msg.payload.size()), dest);
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LogfmtFormatter>();
  }
};

}  // namespace

Status ConfigureLogging(const LogOptions& options) {
  std::unique_ptr<spdlog::formatter> formatter;
  if (options.format == "json") {
    formatter = std::make_unique<JsonFormatter>();
  } else if (options.format == "logfmt") {
    formatter = std::make_unique<LogfmtFormatter>();
  } else if (options.format != "text") {
    return Status::InvalidArgument("log format must be text, json or logfmt, not '" +
                                   options.format + "'");
  }
  auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") {
    return Status::InvalidArgument("unknown log level '" + options.level + "'");
  }
  // Text on stderr is spdlog's own default logger, as it always was.
  std::shared_ptr<spdlog::logger> logger = spdlog::default_logger();
  try {
    if (options.file == "-") {
      logger = std::make_shared<spdlog::logger>(
          "", std::make_shared<spdlog::sinks::stdout_sink_mt>());
    } else if (!options.file.empty()) {
      logger = std::make_shared<spdlog::logger>(
          "ringkv", std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file));
    } else if (formatter) {
      logger = std::make_shared<spdlog::logger>(
          "", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    }
  } catch (const spdlog::spdlog_ex& e) {
    return Status::InvalidArgument(std::string("cannot open log file: ") + e.what());
  }
  if (formatter) logger->set_formatter(std::move(formatter));
  logger->set_level(level);
  spdlog::set_default_logger(std::move(logger));
  spdlog::flush_on(spdlog::level::info);
  return Status::OK();
}

}  // namespace ringkv
