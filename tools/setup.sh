#!/usr/bin/env bash
# Installs the Debian packages ringkv needs to build, test, benchmark
# (--bench) and fuzz (--fuzz).
# Idempotent: does nothing when everything is present. Needs root to install;
# otherwise prints the exact command to run and fails.
set -euo pipefail

packages=(
  g++ meson ninja-build pkg-config cmake python3
  libevent-dev libleveldb-dev capnproto libcapnp-dev libxxhash-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libcli11-dev
  nlohmann-json3-dev libtomlplusplus-dev librapidcheck-dev libbenchmark-dev libssl-dev
  # the node's allocator (meson option jemalloc; glibc's malloc without it)
  libjemalloc-dev
  iptables
  # promtool checks the node's /metrics, headless chromium loads its page
  # (tests/integration/http_test.cc).
  prometheus chromium
  # Debian's python3 reads the Kubernetes manifests (tests/deploy); the OCI
  # image is built from Debian's archive (make image, tests/hosts/image_test).
  python3-yaml mmdebstrap buildah
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(redis-server redis-tools gnuplot-nox)
fi
# `make fuzz` only: clang and its libFuzzer/sanitizer runtimes.
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang libclang-rt-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
((${#missing[@]} == 0)) && exit 0

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "ringkv needs these Debian packages: ${missing[*]}" >&2
  echo "Run as root:  $cmd" >&2
  exit 1
fi
echo "Installing: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
