#include "merge/plugin_loader.h"

#include <dlfcn.h>
#include <openssl/evp.h>

#include <cstddef>
#include <cstring>
#include <fstream>
#include <vector>

namespace ringkv {
namespace {

// The size of version 1's description: a plugin must provide at least it.
constexpr size_t kV1Size = offsetof(rkv_merge_plugin, sample) + sizeof(void*);

}  // namespace

bool ValidPluginName(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

Result<std::string> FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 16);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

Result<std::unique_ptr<LoadedPlugin>> LoadedPlugin::Open(const std::string& path) {
  auto refuse = [&path](const std::string& why) {
    return Status::InvalidArgument("merge plugin " + path + " refused: " + why);
  };
  Result<std::string> sha = FileSha256(path);
  if (!sha.ok()) return refuse(sha.status().message());
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return refuse(std::string("cannot load it: ") + (err != nullptr ? err : "unknown error"));
  }
  auto close_and_refuse = [&](const std::string& why) {
    dlclose(handle);
    return refuse(why);
  };
  auto entry = reinterpret_cast<rkv_merge_plugin_entry_fn>(
      dlsym(handle, "ringkv_merge_plugin_entry"));
  if (entry == nullptr) return close_and_refuse("it exports no ringkv_merge_plugin_entry");
  const rkv_merge_plugin* api = entry(RKV_MERGE_ABI_VERSION);
  if (api == nullptr) return close_and_refuse("it needs a newer ABI than version 1");
  if (api->struct_size < kV1Size) {
    return close_and_refuse("its description is " + std::to_string(api->struct_size) +
                            " bytes, shorter than ABI version 1's " + std::to_string(kV1Size));
  }
  if (api->abi_version != RKV_MERGE_ABI_VERSION) {
    return close_and_refuse("it was built for ABI version " + std::to_string(api->abi_version) +
                            "; this node speaks version 1");
  }
  // Bounded: a name without its terminating zero must not be read past 33.
  if (api->name == nullptr || !ValidPluginName(std::string_view(api->name, strnlen(api->name, 33)))) {
    return close_and_refuse("its name is not 1 to 32 characters of a-z, 0-9 and _");
  }
  if (api->merge == nullptr || api->sample == nullptr) {
    return close_and_refuse("it lacks a merge or a sample function");
  }
  PluginInfo info{api->name, api->version, std::move(*sha), path};
  return std::unique_ptr<LoadedPlugin>(new LoadedPlugin(handle, api, std::move(info)));
}

LoadedPlugin::~LoadedPlugin() { dlclose(handle_); }

}  // namespace ringkv
