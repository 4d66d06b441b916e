// ringkv: the command-line client, a thin shell over client/client.h.
// Command-line contract: issue 2 and docs/cli.md.
//
// Exit status: 0 success, 1 not found, 2 usage or bad input, 3 unavailable
// (quorum not reached or deadline passed), 4 any other error, 5 the write
// would pass the key's object cap; on failure one line on stderr says why.
// Every command returns within --timeout plus the client library's
// kReplyGrace (client/client.h): one deadline covers connecting, sending,
// waiting and trying further nodes.
#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "causality/object_limits.h"
#include "client/address.h"
#include "client/client.h"
#include "client/context_text.h"
#include "common/quorum.h"
#include "tools/credential_flags.h"
#include "tools/exit_codes.h"

namespace ringkv {
namespace {

int Fail(const Status& status) {
  std::cerr << "ringkv: " << status.ToString() << "\n";
  return ExitCodeFor(status);
}

std::string Json(const nlohmann::json& j) {
  // Values are arbitrary bytes; invalid UTF-8 is shown with U+FFFD rather
  // than failing the command.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct Flags {
  std::vector<std::string> nodes;
  uint32_t timeout_ms = 5000;
  bool json = false;
  std::string bucket, key, value;
  std::string value_file;  // --value-file; VALUE "-" reads stdin
  std::string r = "default", pr = "default", w = "default", pw = "default";
  std::string context;
  bool if_match = false;
  CredentialFlags credentials;
};

Result<uint32_t> Quorum(const std::string& text, const char* flag) {
  Result<uint32_t> value = ParseQuorumArg(text);
  if (!value.ok()) {
    return Status::InvalidArgument(std::string(flag) + ": " + value.status().message());
  }
  return value;
}

Result<std::unique_ptr<Client>> ConnectFromFlags(const Flags& flags) {
  ClientOptions options;
  Result<std::vector<std::string>> nodes = SplitAddressList(
      flags.nodes.empty() ? std::vector<std::string>{"127.0.0.1:7101"} : flags.nodes);
  if (!nodes.ok()) return nodes.status();
  if (nodes->empty()) return Status::InvalidArgument("--node: no address given");
  if (flags.timeout_ms == 0) return Status::InvalidArgument("--timeout must be positive");
  options.nodes = std::move(nodes).value();
  options.timeout_ms = flags.timeout_ms;
  RINGKV_RETURN_IF_ERROR(ApplyCredentials(flags.credentials, &options));
  // Connected by the request itself, so that --timeout bounds connecting too.
  return Client::Create(std::move(options));
}

Result<WriteOptions> WriteOptionsFromFlags(const Flags& flags) {
  WriteOptions options;
  Result<uint32_t> w = Quorum(flags.w, "--w");
  if (!w.ok()) return w.status();
  Result<uint32_t> pw = Quorum(flags.pw, "--pw");
  if (!pw.ok()) return pw.status();
  options.w = *w;
  options.pw = *pw;
  options.if_match = flags.if_match;
  if (!flags.context.empty()) {
    Result<std::string> context = ContextFromText(flags.context);
    if (!context.ok()) return context.status();
    options.context = std::move(context).value();
  }
  return options;
}

int DoGet(const Flags& flags) {
  Result<uint32_t> r = Quorum(flags.r, "--r");
  if (!r.ok()) return Fail(r.status());
  Result<uint32_t> pr = Quorum(flags.pr, "--pr");
  if (!pr.ok()) return Fail(pr.status());
  Result<std::unique_ptr<Client>> client = ConnectFromFlags(flags);
  if (!client.ok()) return Fail(client.status());
  ReadOptions options;
  options.r = *r;
  options.pr = *pr;
  Result<GetResult> got = (*client)->Get(flags.bucket, flags.key, options);
  if (!got.ok()) return Fail(got.status());
  const std::string context = ContextToText(got->context);
  if (flags.json) {
    nlohmann::json siblings = nlohmann::json::array();
    for (const std::string& v : got->values) siblings.push_back({{"value", v}});
    std::cout << Json({{"found", got->found}, {"siblings", siblings}, {"context", context}})
              << "\n";
  } else {
    for (const std::string& v : got->values) std::cout << v << "\n";
    if (got->values.size() > 1) {
      std::cerr << "ringkv: " << got->values.size() << " siblings; write with --context " << context
                << " to replace them\n";
    }
  }
  if (!got->found) {
    std::cerr << "ringkv: not found: " << flags.bucket << "/" << flags.key << "\n";
    return kExitNotFound;
  }
  return kExitOk;
}

// Reads a value from `in` (stdin or a file named `what`), refusing one
// larger than a node would take before holding more of it in memory.
Result<std::string> ReadValue(std::istream& in, const std::string& what) {
  std::string value(kMaxValueBytes + 1, '\0');
  in.read(value.data(), static_cast<std::streamsize>(value.size()));
  if (in.bad()) return Status::InvalidArgument("cannot read the value from " + what);
  value.resize(static_cast<size_t>(in.gcount()));
  if (value.size() > kMaxValueBytes) {
    return Status::InvalidArgument("the value from " + what + " is larger than the limit of " +
                                   std::to_string(kMaxValueBytes) + " bytes");
  }
  return value;
}

// The value of `put`: VALUE, stdin for "-", or --value-file's contents.
Result<std::string> ValueFromFlags(const Flags& flags, bool value_given) {
  if (value_given == !flags.value_file.empty()) {
    return Status::InvalidArgument("put takes VALUE, - (stdin) or --value-file FILE, one of them");
  }
  if (!flags.value_file.empty()) {
    std::ifstream file(flags.value_file, std::ios::binary);
    if (!file) return Status::InvalidArgument("cannot open --value-file " + flags.value_file);
    return ReadValue(file, flags.value_file);
  }
  if (flags.value == "-") return ReadValue(std::cin, "stdin");
  return flags.value;
}

int DoWrite(const Flags& flags, bool del, bool value_given) {
  Result<WriteOptions> options = WriteOptionsFromFlags(flags);
  if (!options.ok()) return Fail(options.status());
  std::string value;
  if (!del) {
    Result<std::string> read = ValueFromFlags(flags, value_given);
    if (!read.ok()) return Fail(read.status());
    value = std::move(read).value();
  }
  Result<std::unique_ptr<Client>> client = ConnectFromFlags(flags);
  if (!client.ok()) return Fail(client.status());
  Result<PutResult> put = del ? (*client)->Delete(flags.bucket, flags.key, *options)
                              : (*client)->Put(flags.bucket, flags.key, value, *options);
  if (!put.ok()) return Fail(put.status());
  const std::string context = ContextToText(put->context);
  if (flags.json) {
    std::cout << Json({{"context", context}}) << "\n";
  } else {
    std::cout << context << "\n";
  }
  return kExitOk;
}

int DoPing(const Flags& flags) {
  Result<std::unique_ptr<Client>> client = ConnectFromFlags(flags);
  if (!client.ok()) return Fail(client.status());
  const auto start = std::chrono::steady_clock::now();
  Result<std::string> node = (*client)->Ping();
  if (!node.ok()) return Fail(node.status());
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (flags.json) {
    std::cout << Json({{"node", *node}, {"address", (*client)->last_node()}, {"ms", ms}}) << "\n";
  } else {
    std::cout << "pong from " << *node << " at " << (*client)->last_node() << " in " << ms
              << " ms\n";
  }
  return kExitOk;
}

void AddJson(CLI::App* cmd, Flags* flags, const char* what) {
  cmd->add_flag("--json", flags->json, what);
}

}  // namespace
}  // namespace ringkv

int main(int argc, char** argv) {
  using namespace ringkv;
  Flags flags;
  CLI::App app{"ringkv: read and write a ringkv cluster"};
  app.require_subcommand(1, 1);
  // Global options may also follow the subcommand ("get b k --node h:p").
  app.fallthrough();
  app.add_option("--node", flags.nodes,
                 "node to talk to, HOST:PORT; repeat or comma-separate for fallbacks "
                 "(default 127.0.0.1:7101)");
  app.add_option("--timeout", flags.timeout_ms, "request deadline in milliseconds")
      ->capture_default_str();
  AddCredentialFlags(&app, &flags.credentials);

  const char* quorum_help = "a number, one, quorum, all or default (the bucket's)";
  CLI::App* get =
      app.add_subcommand("get", "read a key: prints each sibling value on its own line");
  get->add_option("BUCKET", flags.bucket, "bucket")->required();
  get->add_option("KEY", flags.key, "key")->required();
  get->add_option("--r", flags.r, std::string("read quorum: ") + quorum_help);
  get->add_option("--pr", flags.pr,
                  std::string("primary replicas that must answer: ") + quorum_help);
  AddJson(get, &flags, "print {found, siblings: [{value}], context}");

  CLI::App* put = app.add_subcommand("put", "write a value: prints the new context");
  put->add_option("BUCKET", flags.bucket, "bucket")->required();
  put->add_option("KEY", flags.key, "key")->required();
  CLI::Option* value = put->add_option(
      "VALUE", flags.value, "value; - reads it from stdin (at most 4 MiB, docs/limits.md)");
  put->add_option("--value-file", flags.value_file, "read the value from this file instead");

  CLI::App* del =
      app.add_subcommand("del", "delete a key (writes a tombstone): prints the new context");
  del->add_option("BUCKET", flags.bucket, "bucket")->required();
  del->add_option("KEY", flags.key, "key")->required();

  for (CLI::App* cmd : {put, del}) {
    cmd->add_option("--w", flags.w, std::string("write quorum: ") + quorum_help);
    cmd->add_option("--pw", flags.pw,
                    std::string("primary replicas that must ack: ") + quorum_help);
    cmd->add_option("--context", flags.context,
                    "context from an earlier get or put; the write replaces what it covers");
    cmd->add_flag("--if-match", flags.if_match,
                  "write only if the --context covers every value the key holds (without "
                  "--context: only if it holds none); else exit 9, precondition_failed");
    AddJson(cmd, &flags, "print {context}");
  }

  CLI::App* ping = app.add_subcommand("ping", "check that a node answers");
  AddJson(ping, &flags, "print {node, address, ms}");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (get->parsed()) return DoGet(flags);
  if (put->parsed()) return DoWrite(flags, false, value->count() > 0);
  if (del->parsed()) return DoWrite(flags, true, false);
  if (ping->parsed()) return DoPing(flags);
  return kExitUsage;
}
