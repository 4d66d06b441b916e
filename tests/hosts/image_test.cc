// The OCI image of `make image` (deploy/image/build.sh), built from this
// build's binaries, checked from the outside: its configuration (non-root
// user, ports, volume, entry point), its root file system (the binaries and
// their libraries, no shell), and a node run from it on a host of its own
// serving the CLI tour with the image's own CLI. The node runs under chroot
// in a network namespace as the image's user: this machine's container
// runtime cannot start containers (crun may not set their rlimits here), so
// the test does by hand what a runtime would.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/hosts/netns_hosts.h"
#include "tests/integration/harness.h"

namespace ringkv::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using Json = nlohmann::json;

Json ReadJson(const fs::path& path) {
  std::ifstream in(path);
  return Json::parse(in, nullptr, false);
}

fs::path Blob(const fs::path& layout, const std::string& digest) {
  return layout / "blobs" / "sha256" / digest.substr(digest.find(':') + 1);
}

class ImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Status st = NetnsHosts::Available(); !st.ok()) GTEST_SKIP() << st.message();
    for (const char* tool : {"/usr/bin/mmdebstrap", "/usr/bin/buildah"}) {
      ASSERT_TRUE(fs::exists(tool)) << tool << " missing: tools/setup.sh installs it";
    }
    source_ = std::getenv("RINGKV_SOURCE_DIR");
  }

  // Runs the image's own binary `program` under chroot on `host`, as the
  // image's user.
  CommandResult InImage(int host, const std::vector<std::string>& argv) {
    std::vector<std::string> full = {"/usr/sbin/chroot", "--userspec=10001:10001", rootfs_.string()};
    full.insert(full.end(), argv.begin(), argv.end());
    return hosts_->Run(host, full);
  }

  std::string source_;
  TempDir temp_;
  fs::path rootfs_;
  std::unique_ptr<NetnsHosts> hosts_;
};

TEST_F(ImageTest, TheImageRunsAsItsUserAndServesTheCliTour) {
  const fs::path out = fs::path(temp_.path()) / "ringkv.oci.tar";
  const auto started = steady_clock::now();
  CommandResult build = RunCommand(
      {"/usr/bin/env", "IMAGE_OUT=" + out.string(), "IMAGE_WORK=" + temp_.path() + "/work",
       "IMAGE_TAG=localhost/ringkv:test", "/bin/bash", source_ + "/deploy/image/build.sh",
       BinaryPath("")},
      std::chrono::seconds(240));
  ASSERT_EQ(build.exit_code, 0) << build.Describe();
  std::cout << "[figures] image built in "
            << std::chrono::duration<double>(steady_clock::now() - started).count() << " s, "
            << fs::file_size(out) / (1 << 20) << " MiB\n";

  const fs::path layout = fs::path(temp_.path()) / "layout";
  fs::create_directories(layout);
  ASSERT_EQ(RunCommand({"/usr/bin/tar", "-xf", out.string(), "-C", layout.string()}).exit_code, 0);
  Json index = ReadJson(layout / "index.json");
  ASSERT_TRUE(index.is_object());
  ASSERT_EQ(index["manifests"].size(), 1u);
  EXPECT_EQ(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
            "localhost/ringkv:test");
  Json manifest = ReadJson(Blob(layout, index["manifests"][0]["digest"]));
  Json config = ReadJson(Blob(layout, manifest["config"]["digest"]))["config"];
  EXPECT_EQ(config["User"], "10001:10001");
  EXPECT_TRUE(config["ExposedPorts"].contains("7000/tcp")) << config.dump();
  EXPECT_TRUE(config["ExposedPorts"].contains("8000/tcp")) << config.dump();
  EXPECT_TRUE(config["Volumes"].contains("/var/lib/ringkv")) << config.dump();
  EXPECT_EQ(config["Entrypoint"], Json::array({"/usr/local/bin/ringkv-node"}));

  rootfs_ = fs::path(temp_.path()) / "rootfs";
  fs::create_directories(rootfs_);
  for (const Json& layer : manifest["layers"]) {
    CommandResult x = RunCommand({"/usr/bin/tar", "-xf", Blob(layout, layer["digest"]).string(),
                                  "-C", rootfs_.string()});
    ASSERT_EQ(x.exit_code, 0) << x.Describe();
  }
  for (const char* file : {"usr/local/bin/ringkv-node", "usr/local/bin/ringkv",
                           "usr/local/bin/ringkv-admin", "usr/local/lib/ringkv/plugins/max.so",
                           "etc/ringkv/node.toml", "etc/ringkv/cluster.toml"}) {
    EXPECT_TRUE(fs::exists(rootfs_ / file)) << file;
  }
  EXPECT_FALSE(fs::exists(rootfs_ / "bin/sh")) << "the image carries a shell";
  EXPECT_FALSE(fs::exists(rootfs_ / "usr/bin/apt")) << "the image carries a package manager";

  hosts_ = std::make_unique<NetnsHosts>();
  Result<int> host = hosts_->AddHost("ringkv");
  ASSERT_TRUE(host.ok()) << host.status().ToString();
  Result<int> client = hosts_->AddHost("client");
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  // The image's entry point and default command, as a runtime starts them.
  std::vector<std::string> command = {"/usr/sbin/chroot", "--userspec=10001:10001",
                                      rootfs_.string()};
  for (const Json& part : config["Entrypoint"]) command.push_back(part);
  for (const Json& part : config["Cmd"]) command.push_back(part);
  const std::string log = temp_.path() + "/node.log";
  ASSERT_TRUE(hosts_->Spawn(*host, command, log).ok());

  // The tour of the README, with the image's own CLI, from another host
  // (by address: name resolution inside the image is the runtime's job).
  const std::string node = hosts_->Address(*host) + ":7000";
  CommandResult put;
  for (auto deadline = steady_clock::now() + std::chrono::seconds(20);
       steady_clock::now() < deadline; std::this_thread::sleep_for(milliseconds(100))) {
    put = InImage(*client, {"/usr/local/bin/ringkv", "--node", node, "put", "tour", "greeting",
                            "hello from the image"});
    if (put.exit_code == 0) break;  // poll until the node serves
  }
  ASSERT_EQ(put.exit_code, 0) << put.Describe() << "\nnode log:\n"
                              << RunCommand({"/usr/bin/tail", "-20", log}).out;
  CommandResult get = InImage(*client, {"/usr/local/bin/ringkv", "--node", node, "get", "tour",
                                        "greeting"});
  EXPECT_EQ(get.exit_code, 0) << get.Describe();
  EXPECT_EQ(get.out, "hello from the image\n");
  CommandResult del = InImage(*client, {"/usr/local/bin/ringkv", "--node", node, "del", "tour",
                                        "greeting"});
  EXPECT_EQ(del.exit_code, 0) << del.Describe();
  CommandResult gone = InImage(*client, {"/usr/local/bin/ringkv", "--node", node, "get", "tour",
                                         "greeting"});
  EXPECT_EQ(gone.exit_code, 1) << gone.Describe();
  CommandResult status = InImage(*client, {"/usr/local/bin/ringkv-admin", "--node", node,
                                           "status", "--json"});
  EXPECT_EQ(status.exit_code, 0) << status.Describe();
  EXPECT_EQ(Json::parse(status.out, nullptr, false).value("node", ""), "n1") << status.out;
  // The data is on the volume, written as the image's user.
  EXPECT_FALSE(fs::is_empty(rootfs_ / "var/lib/ringkv"));
}

}  // namespace
}  // namespace ringkv::testing
