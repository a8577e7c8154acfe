#!/usr/bin/env bash
# Installs the Debian packages the host tests use, when they are missing:
# TFTP servers and clients to test ours against. tftpd-hpa and atftpd
# conflict, so only tftpd-hpa is installed as a package here; the atftpd
# binary is unpacked from its package into build/debian (no service, no
# conflict). Without root or apt the tests that need them skip and say why.
set -u
want_pkgs=(tftpd-hpa tftp-hpa atftp curl)
missing=()
for p in "${want_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
root=$(cd "$(dirname "$0")/../.." && pwd)
atftpd_dir="$root/build/debian/atftpd"
if [ ${#missing[@]} -eq 0 ] && [ -x "$atftpd_dir/usr/sbin/atftpd" ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "debian-deps: not root or no apt-get: tests that need ${missing[*]} atftpd will skip"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || echo "debian-deps: could not install ${missing[*]}"
  # The package starts a system tftpd on port 69; our tests start their own.
  (service tftpd-hpa stop || systemctl stop tftpd-hpa || pkill -f in.tftpd) >/dev/null 2>&1 || true
fi
if [ ! -x "$atftpd_dir/usr/sbin/atftpd" ]; then
  mkdir -p "$atftpd_dir"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download atftpd >/dev/null 2>&1 && dpkg-deb -x atftpd_*.deb "$atftpd_dir") || echo "debian-deps: could not unpack atftpd"
  rm -rf "$tmp"
fi
exit 0
