#!/usr/bin/env bash
# Runs every dorafs test: installs what is missing, builds, then runs the
# unit and integration suites (real FUSE mounts, etcd, s3rver, test workers)
# with ctest. Usage: scripts/test.sh [ctest args...]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup.sh"
cd "${DORAFS_BUILD_DIR:-$repo/build}"
# Two cores: two tests at a time keeps the suite well within 20 minutes.
ctest --output-on-failure -j2 "$@"

# The same suite again under AddressSanitizer + UndefinedBehaviorSanitizer
# (skip with DORAFS_SKIP_ASAN=1 while iterating).
if [ "${DORAFS_SKIP_ASAN:-0}" != 1 ]; then
  DORAFS_BUILD_DIR="$repo/build-asan" bash "$repo/scripts/setup.sh" --asan
  cd "$repo/build-asan"
  ctest --output-on-failure -j2 "$@"
fi

# Every libFuzzer harness (tests/fuzz/fuzz_*.c) for a short run over its seed
# corpus, in a clang build (skip with DORAFS_SKIP_FUZZ=1).
if [ "${DORAFS_SKIP_FUZZ:-0}" != 1 ]; then
  fuzz_dir="$repo/build-fuzz"
  if [ ! -f "$fuzz_dir/CMakeCache.txt" ]; then
    CC=clang-14 cmake -S "$repo" -B "$fuzz_dir" -DDORAFS_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$fuzz_dir" -j "$(nproc)"
  cd "$fuzz_dir"
  ctest --output-on-failure -j2 -L fuzz
fi
