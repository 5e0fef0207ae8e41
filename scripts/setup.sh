#!/usr/bin/env bash
# Installs what dorafs needs to build and test, then builds it.
# Idempotent: when everything is present it only runs the (incremental) build.
# Usage: scripts/setup.sh [--no-build] [--asan]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${DORAFS_BUILD_DIR:-$repo/build}
do_build=1
cmake_extra=()
for arg in "$@"; do
  case "$arg" in
    --no-build) do_build=0 ;;
    --asan) cmake_extra+=(-DDORAFS_SANITIZE=ON); build_dir=${DORAFS_BUILD_DIR:-$repo/build-asan} ;;
    *) echo "setup.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

debs=(
  build-essential cmake pkg-config git curl ca-certificates python3 python3-botocore
  libfuse3-dev fuse3
  libgrpc-dev protobuf-c-compiler libprotobuf-c-dev protobuf-compiler
  libcurl4-openssl-dev libxxhash-dev
  libjson-c-dev libxml2-dev libglib2.0-dev
  libcmocka-dev
  etcd-server etcd-client
  fio valgrind clang-14 libclang-rt-14-dev
)

missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from another packaging that bundles npm (and conflicts with Debian's npm).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# s3rver lives in the repo's test tooling (tests/tools/node_modules, ignored by git).
tools=$repo/tests/tools
if [ ! -x "$tools/node_modules/.bin/s3rver" ]; then
  echo "setup: installing npm test tooling (s3rver) into $tools"
  (cd "$tools" && npm install --no-audit --no-fund --loglevel=error)
fi

if [ "$do_build" -eq 1 ]; then
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${cmake_extra[@]}"
  fi
  cmake --build "$build_dir" -j "$(nproc)"
fi
