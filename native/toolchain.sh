#!/usr/bin/env bash
# native/toolchain.sh native|board [--check]
#
# Makes sure the C toolchain for `make replay` (native) or `make board`
# (board) is here. What is missing is installed from Debian's packages with
# apt-get when we are root; otherwise, or when that fails, one line says
# what is missing and the script exits 1. With --check nothing is
# installed: exit 0 when all is here, else 1 and the line (tests use this
# to skip, saying why).
#
#   native: wasm2c and wasm-rt.h (wabt), cc (gcc), the C library's headers
#           (libc6-dev)
#   board:  the native set, arm-none-eabi-gcc and -size
#           (gcc-arm-none-eabi, binutils-arm-none-eabi), newlib with the
#           rdimon semihosting specs (libnewlib-arm-none-eabi),
#           qemu-system-arm (qemu-system-arm) to run the image
#   phone:  the native set, expat (libexpat1-dev) for the configuration
#           XML, OpenSSL's libcrypto (libssl-dev) for SHA-256 and the
#           index's signature: the C phone of native/phone/
set -u
what=${1:-}
mode=${2:-install}
root=$(cd "$(dirname "$0")/.." && pwd)
log="$root/build/native/toolchain-apt.log"

missing_tools=()
missing_pkgs=()
need() { # need <name shown> <package> <test command...>
  local name=$1 pkg=$2
  shift 2
  if ! "$@" >/dev/null 2>&1; then
    missing_tools+=("$name")
    [[ " ${missing_pkgs[*]} " == *" $pkg "* ]] || missing_pkgs+=("$pkg")
  fi
}
has() { command -v "$1"; }
has_rdimon() { [ -f "$(arm-none-eabi-gcc -print-file-name=rdimon.specs 2>/dev/null)" ]; }

check() {
  missing_tools=()
  missing_pkgs=()
  need wasm2c wabt has wasm2c
  need wasm-rt.h wabt test -f /usr/include/wasm-rt.h
  need cc gcc has cc
  # gcc only recommends the C library's headers, and we install without
  # recommends.
  need "libc headers" libc6-dev test -f /usr/include/stdio.h
  if [ "$what" = board ]; then
    need arm-none-eabi-gcc gcc-arm-none-eabi has arm-none-eabi-gcc
    need arm-none-eabi-size binutils-arm-none-eabi has arm-none-eabi-size
    need "newlib (rdimon.specs)" libnewlib-arm-none-eabi has_rdimon
    need qemu-system-arm qemu-system-arm has qemu-system-arm
  fi
  if [ "$what" = phone ]; then
    need expat.h libexpat1-dev test -f /usr/include/expat.h
    need "openssl/evp.h" libssl-dev test -f /usr/include/openssl/evp.h
  fi
}

case "$what" in
  native | board | phone) ;;
  *)
    echo "usage: native/toolchain.sh native|board|phone [--check]" >&2
    exit 2
    ;;
esac

check
[ ${#missing_tools[@]} -eq 0 ] && exit 0
target=$what
[ "$what" = native ] && target=replay
[ "$what" = phone ] && target=native
line="make $target needs ${missing_tools[*]} (Debian: apt-get install --no-install-recommends ${missing_pkgs[*]})"
if [ "$mode" = --check ]; then
  echo "$line"
  exit 1
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "$line; not root or no apt-get, so not installed" >&2
  exit 1
fi
mkdir -p "$(dirname "$log")"
echo "toolchain: installing ${missing_pkgs[*]} (apt log in ${log#"$root"/})"
export DEBIAN_FRONTEND=noninteractive
# The package lists may be stale or absent on a fresh machine: refresh once
# if the first attempt fails.
if ! apt-get install -y --no-install-recommends "${missing_pkgs[@]}" >"$log" 2>&1; then
  apt-get update >>"$log" 2>&1
  apt-get install -y --no-install-recommends "${missing_pkgs[@]}" >>"$log" 2>&1
fi
check
if [ ${#missing_tools[@]} -gt 0 ]; then
  echo "$line; apt-get could not install them (see ${log#"$root"/})" >&2
  exit 1
fi
exit 0
