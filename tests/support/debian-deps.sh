#!/usr/bin/env bash
# Installs what the host tests need from Debian, when it is missing: TFTP
# clients to test our server against (tftp-hpa, atftp, curl), and both TFTP
# servers to test our client against; and what the admin's tools are tested
# with (issue 12): rsyslog as a real log server, chromium for the fleet page,
# tshark and tcpdump for the Wireshark dissector. tftpd-hpa and atftpd conflict as
# packages, and either may already be installed on a machine (which then
# refuses the other), so neither is installed as a package here: both are
# unpacked from their .deb into build/debian/<package> (no service on port
# 69, no conflict), with the shared libraries they link installed. Without
# root or apt the tests that need them skip and say why.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
# nginx (issue 13): a real HTTP load server (tests/support/nginx.ts); Debian
# 12's nginx-light is only nginx plus an echo module we do not use.
clients=(tftp-hpa atftp curl rsyslog chromium tshark tcpdump nginx)
# What in.tftpd and atftpd link against (ldd), as Debian packages.
server_libs=(libwrap0 libpcre2-8-0)
servers=(tftpd-hpa:usr/sbin/in.tftpd atftpd:usr/sbin/atftpd)

missing=()
for p in "${clients[@]}" "${server_libs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
unpack=()
for s in "${servers[@]}"; do [ -x "$root/build/debian/${s%%:*}/${s#*:}" ] || unpack+=("${s%%:*}"); done
if [ ${#missing[@]} -eq 0 ] && [ ${#unpack[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "debian-deps: not root or no apt-get: tests that need ${missing[*]} ${unpack[*]} will skip"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
if [ ${#missing[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || echo "debian-deps: could not install ${missing[*]}"
fi
for pkg in "${unpack[@]}"; do
  dir="$root/build/debian/$pkg"
  rm -rf "$dir" && mkdir -p "$dir"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1 && dpkg-deb -x "$pkg"_*.deb "$dir") || echo "debian-deps: could not unpack $pkg"
  rm -rf "$tmp"
done
exit 0
