#!/usr/bin/env bash
# CPython 3.14 and 3.15 from Debian's unstable distribution, in a root of the project's own.
#
#   tools/debian-pythons.sh ensure          build the root if it is missing (idempotent)
#   tools/debian-pythons.sh versions        print the X.Y versions the root provides
#   tools/debian-pythons.sh run X.Y CMD...  run CMD inside the root, in a copy of this checkout,
#                                           with PYTHON=pythonX.Y appended (as each-python.sh does)
#
# The root is made with debootstrap (--variant=minbase) at $HOTPATH_DEBIAN_ROOT (default
# /var/tmp/hotpath-sid), outside the checkout so a fresh clone (CI) reuses it. It needs
# root; without root, or without debootstrap/network, it says so and exits 3 ("skipped"),
# which callers report — it never fails silently.
set -euo pipefail

ROOT=${HOTPATH_DEBIAN_ROOT:-/var/tmp/hotpath-sid}
MIRROR=${HOTPATH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
VERSIONS=(3.14 3.15)
SKIP=3
# Bump when the package list changes so existing roots are topped up.
STAMP_VERSION=4
PACKAGES="ca-certificates gcc make git procps valgrind"
for v in "${VERSIONS[@]}"; do
  PACKAGES+=" python$v python$v-dev python$v-venv libpython$v-testsuite"
done

say() { echo "debian-pythons: $*" >&2; }

can_build() {
  if [ "$(id -u)" != 0 ]; then say "skipped: building the Debian root needs root"; return 1; fi
  if ! command -v debootstrap >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
      say "installing debootstrap"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap) >/dev/null 2>&1 || true
    fi
  fi
  if ! command -v debootstrap >/dev/null 2>&1; then say "skipped: debootstrap is not available"; return 1; fi
  return 0
}

mount_pseudo() {
  mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
  mkdir -p "$ROOT/dev/shm"
  mountpoint -q "$ROOT/dev/shm" || mount -t tmpfs -o mode=1777 tmpfs "$ROOT/dev/shm"
  # Terminals (pty.openpty: the progress line's tests) need the host's devpts.
  mkdir -p "$ROOT/dev/pts"
  mountpoint -q "$ROOT/dev/pts" || mount --bind /dev/pts "$ROOT/dev/pts" 2>/dev/null || true
  cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
}

in_root() { chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 CI="${CI:-}" DEBIAN_FRONTEND=noninteractive "$@"; }

ensure() {
  if [ -f "$ROOT/.hotpath-stamp" ] && [ "$(cat "$ROOT/.hotpath-stamp")" = "$STAMP_VERSION" ]; then
    mount_pseudo; return 0
  fi
  can_build || return $SKIP
  if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
    say "building a Debian unstable root at $ROOT (a few minutes)"
    rm -rf "$ROOT.partial"
    if ! debootstrap --variant=minbase sid "$ROOT.partial" "$MIRROR" >/tmp/hotpath-debootstrap.log 2>&1; then
      say "debootstrap failed (see /tmp/hotpath-debootstrap.log):"; tail -5 /tmp/hotpath-debootstrap.log >&2
      return 1
    fi
    rm -rf "$ROOT"; mv "$ROOT.partial" "$ROOT"
  fi
  mount_pseudo
  # The host's CA certificates (a proxy's among them) so pip inside the root reaches PyPI.
  mkdir -p "$ROOT/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/* "$ROOT/usr/local/share/ca-certificates/" 2>/dev/null || true
  say "installing Python ${VERSIONS[*]} and gcc into the root"
  in_root apt-get -o Acquire::Check-Valid-Until=false update -qq >/dev/null
  in_root apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
  in_root update-ca-certificates >/dev/null 2>&1 || true
  echo "$STAMP_VERSION" >"$ROOT/.hotpath-stamp"
}

versions() {
  for v in "${VERSIONS[@]}"; do
    [ -x "$ROOT/usr/bin/python$v" ] && echo "$v"
  done
  return 0
}

# run X.Y CMD...: the checkout is copied (without venvs and build output) to /work/hotpath
# inside the root, so the root's venvs and builds never mix with the host's.
run() {
  local v=$1; shift
  local src; src=$(cd "$(dirname "$0")/.." && pwd)
  local dst="$ROOT/work/hotpath"
  mkdir -p "$dst"
  # A fresh copy each time, keeping only the root's own venvs (.venv-X.Y) between runs.
  find "$dst" -mindepth 1 -maxdepth 1 ! -name '.venv-*' -exec rm -rf {} +
  tar -C "$src" --exclude='./.venv-*' --exclude=./build --exclude='./src/*.egg-info' \
      --exclude='*.so' --exclude=__pycache__ -cf - . | tar -C "$dst" -xf -
  in_root /bin/sh -c 'cd /work/hotpath && exec "$@"' sh "$@" PYTHON="python$v"
}

cmd=${1:-ensure}; shift || true
case "$cmd" in
  ensure) ensure ;;
  versions) versions ;;
  run) ensure; run "$@" ;;
  *) say "usage: $0 ensure | versions | run X.Y CMD..."; exit 2 ;;
esac
