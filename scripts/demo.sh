#!/usr/bin/env bash
# The all-local demo: installs what is missing and builds, then starts etcd,
# an S3 server and three Alluxio-protocol test workers on 127.0.0.1, uploads
# a generated dataset, mounts it on two "nodes" with dorafs and reads it,
# showing with `dorafs stat` where every epoch's bytes came from. Everything
# it starts is stopped again, and the mounts are unmounted, even on failure.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup.sh"
exec python3 "$repo/scripts/demo.py"
