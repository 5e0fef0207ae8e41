#!/usr/bin/env bash
# The all-local demo: builds dorafs, generates a small sample dataset, mounts
# it with the on-disk page cache under demo/, reads it twice and shows with
# `dorafs stat` that the second read came from the page cache, then unmounts.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup.sh"
dorafs="${DORAFS_BUILD_DIR:-$repo/build}/cli/dorafs"
demo="$repo/demo"
data="$demo/dataset" mnt="$demo/mnt" cache="$demo/cache"

cleanup() {
  if mountpoint -q "$mnt" 2>/dev/null; then "$dorafs" unmount "$mnt" || "$dorafs" unmount -f "$mnt" || true; fi
}
trap cleanup EXIT

mkdir -p "$data" "$mnt"
if [ ! -f "$data/.generated" ]; then
  echo "== generating a sample dataset in $data"
  for shard in 0 1 2 3; do
    mkdir -p "$data/train/shard-$shard"
    for i in $(seq 0 7); do
      head -c $(( (i + 1) * 1024 * 1024 + shard * 4096 + 17 )) /dev/urandom > "$data/train/shard-$shard/sample-$i.bin"
    done
  done
  echo "labels for the demo" > "$data/labels.txt"
  touch "$data/.generated"
fi
rm -rf "$cache"

echo "== dorafs mount $data $mnt -o local_data_cache=$cache,local_data_cache_size=1GB"
"$dorafs" mount "$data" "$mnt" -o "local_data_cache=$cache,local_data_cache_size=1GB"

checksum() { find "$1" -type f ! -name .generated -print0 | sort -z | xargs -0 cat | md5sum | cut -d' ' -f1; }
want=$(checksum "$data")

for epoch in 1 2; do
  echo
  echo "== epoch $epoch: read every file through the mount"
  start=$(date +%s.%N)
  got=$(checksum "$mnt")
  end=$(date +%s.%N)
  [ "$want" = "$got" ] || { echo "demo: bytes through the mount differ from the dataset" >&2; exit 1; }
  echo "   bytes match the dataset; took $(python3 -c "print(f'{$end-$start:.2f}')") s"
  "$dorafs" stat "$mnt"
done

ufs=$("$dorafs" stat --json "$mnt" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["ufs"]["bytes"], s["page_cache"]["bytes_from_cache"])')
echo
echo "== UFS bytes read, bytes served from the page cache: $ufs"
echo "== dorafs unmount $mnt"
"$dorafs" unmount "$mnt"
trap - EXIT
echo "demo: OK"
