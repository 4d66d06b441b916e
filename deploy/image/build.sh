#!/usr/bin/env bash
# Builds the ringkv OCI image from Debian's archive only (docs/kubernetes.md):
#   1. a minimal Debian root file system (mmdebstrap, variant essential)
#      holding exactly the shared libraries the binaries link to, found with
#      ldd and mapped to their packages with dpkg -S on this machine;
#   2. the project's binaries and built-in merge plugins from BUILD_DIR;
#   3. an image assembled with buildah from scratch: non-root user, the
#      node's ports, the data volume, ringkv-node as the entry point.
# Output: IMAGE_OUT (default build-image/ringkv.oci.tar), an OCI archive
# that `podman load` or `skopeo copy oci-archive:...` takes.
#
# Usage: deploy/image/build.sh BUILD_DIR
# Knobs: IMAGE_OUT, IMAGE_WORK (scratch dir, default build-image/work),
#        DEBIAN_MIRROR (default http://deb.debian.org/debian), IMAGE_TAG.
set -euo pipefail

build_dir=${1:?usage: deploy/image/build.sh BUILD_DIR}
out=${IMAGE_OUT:-build-image/ringkv.oci.tar}
work=${IMAGE_WORK:-build-image/work}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
tag=${IMAGE_TAG:-localhost/ringkv:$(git describe --always --dirty 2>/dev/null || echo dev)}
suite=bookworm
binaries=(node/ringkv-node merge/ringkv-merge-worker tools/ringkv tools/ringkv-admin)

if [[ $(id -u) -ne 0 ]]; then
  echo "make image needs root (mmdebstrap and buildah write a root file system)" >&2
  exit 1
fi
for b in "${binaries[@]}"; do
  [[ -x "$build_dir/$b" ]] || { echo "missing $build_dir/$b: build first" >&2; exit 1; }
done

# The runtime packages: whoever owns each library a binary or plugin needs.
libs=$(for f in "${binaries[@]/#/$build_dir/}" "$build_dir"/merge/builtin/*.so; do
         ldd "$f" | awk '/=> \//{print $3}'
       done | sort -u)
packages=$(for l in $libs; do
             dpkg -S "$(readlink -f "$l")" 2>/dev/null || dpkg -S "$l"
           done | cut -d: -f1 | sort -u | tr '\n' ',' | sed 's/,$//')
echo "runtime packages: $packages"

rm -rf "$work"
mkdir -p "$work" "$(dirname "$out")"
# Variant extract: the libraries and what they depend on, unpacked, with no
# shell, package manager or maintainer scripts; the few files those would
# write are written below (extract runs no hooks). Documentation, manuals
# and locales are left out.
rootfs="$work/rootfs"
mmdebstrap --variant=extract --include="$packages,tzdata" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  "$suite" "$rootfs" "$mirror"
rm -rf "$rootfs"/etc/apt "$rootfs"/etc/dpkg "$rootfs"/etc/debconf.conf "$rootfs"/var/cache \
  "$rootfs"/var/lib/apt "$rootfs"/var/lib/dpkg "$rootfs"/var/log
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nringkv:x:10001:10001:ringkv:/var/lib/ringkv:/usr/sbin/nologin\n' \
  > "$rootfs/etc/passwd"
printf 'root:x:0:\nringkv:x:10001:\n' > "$rootfs/etc/group"
printf 'hosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
mkdir -p "$rootfs/var/lib/ringkv" "$rootfs/etc/ringkv" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
chown 10001:10001 "$rootfs/var/lib/ringkv"
# A tar keeps the owners (buildah add of a directory would make them root).
tar -C "$rootfs" --numeric-owner -cf "$work/rootfs.tar" .

mkdir -p "$work/add/usr/local/bin" "$work/add/usr/local/lib/ringkv/plugins"
for b in "${binaries[@]}"; do
  install -m 0755 -s "$build_dir/$b" "$work/add/usr/local/bin/"
done
install -m 0644 -s "$build_dir"/merge/builtin/*.so "$work/add/usr/local/lib/ringkv/plugins/"
# The default configuration: one node on its own, for `podman run`; a
# cluster mounts its own /etc/ringkv (deploy/kubernetes/).
mkdir -p "$work/add/etc/ringkv"
install -m 0644 "$(dirname "$0")/cluster.toml" "$(dirname "$0")/node.toml" "$work/add/etc/ringkv/"

storage=(--root "$work/storage" --runroot "$work/run" --storage-driver vfs)
ctr=$(buildah "${storage[@]}" from scratch)
trap 'buildah "${storage[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah "${storage[@]}" add "$ctr" "$work/rootfs.tar" /
buildah "${storage[@]}" add "$ctr" "$work/add/" /
# Ports: 7000 the binary protocol (clients and peers), 8000 HTTP (/livez,
# /readyz, /metrics): the node's own rule is HTTP = binary + 1000.
buildah "${storage[@]}" config \
  --user 10001:10001 \
  --workingdir /var/lib/ringkv \
  --port 7000/tcp --port 8000/tcp \
  --volume /var/lib/ringkv \
  --entrypoint '["/usr/local/bin/ringkv-node"]' \
  --cmd '["--config", "/etc/ringkv/node.toml"]' \
  --label org.opencontainers.image.title=ringkv \
  --label org.opencontainers.image.source=ringkv \
  "$ctr"
rm -f "$out"
buildah "${storage[@]}" commit --format oci "$ctr" "oci-archive:$out:$tag" >/dev/null
rm -rf "$work/storage" "$work/run"
echo "image $tag: $out ($(du -h "$out" | cut -f1), root file system $(du -h "$work/rootfs.tar" | cut -f1) before binaries)"
rm -rf "$rootfs"
