#!/usr/bin/env bash
# bench/s3_read.sh: dorafs over S3 vs s3fs-fuse vs rclone mount, against one
# s3rver on 127.0.0.1, with curl / raw ListObjectsV2 as the limits.
# One run: the same 1 GiB object, a 10k-object prefix and 2,000 objects of
# 100 KiB; every client starts with cold caches (its own cache folder empty,
# kernel page cache dropped after a sync). See bench/README.md (S3 section).
#
# Environment knobs (defaults in brackets):
#   DORAFS_BUILD_DIR  build folder with cli/dorafs [<repo>/build]
#   BENCH_DIR         work folder; kept if set [mktemp -d under /var/tmp, removed]
#   BIG_MB            size of the big object in MiB [1024]
#   NLIST             objects in the listing prefix [10000]
#   NSMALL            small objects [2000]; SMALL_KB their size [100]
#   READERS           parallel readers of the small objects [8]
#   CLIENTS           which clients [dorafs s3fs rclone]
#   DORAFS_OPTS       extra dorafs options []
#   FIO_RUNTIME       seconds of the random-read run, 0 skips it [10]
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${DORAFS_BUILD_DIR:-$ROOT/build}
BIG_MB=${BIG_MB:-1024}
NLIST=${NLIST:-10000}
NSMALL=${NSMALL:-2000}
SMALL_KB=${SMALL_KB:-100}
READERS=${READERS:-8}
CLIENTS=${CLIENTS:-"dorafs s3fs rclone"}
DORAFS_OPTS=${DORAFS_OPTS:-}
FIO_RUNTIME=${FIO_RUNTIME:-10}
DORAFS=$BUILD/cli/dorafs
S3RVER=$ROOT/tests/tools/node_modules/.bin/s3rver
BUCKET=bench

die() { echo "s3_read.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

[ "$(id -u)" = 0 ] || die "run as root (FUSE mounts, drop_caches)"
[ -x "$DORAFS" ] || die "$DORAFS is missing: build dorafs first"
[ -x "$S3RVER" ] || die "s3rver is missing: run scripts/setup.sh"
for c in $CLIENTS; do
	case $c in
	s3fs) command -v s3fs >/dev/null || apt-get install -y s3fs >/dev/null || die "s3fs missing" ;;
	rclone) command -v rclone >/dev/null || apt-get install -y rclone >/dev/null || die "rclone missing" ;;
	esac
done

WORK=${BENCH_DIR:-$(mktemp -d /var/tmp/dorafs-s3bench.XXXXXX)}
mkdir -p "$WORK"/{s3data,mnt}
MNT=$WORK/mnt
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
EP=http://127.0.0.1:$PORT
S3PID=
cleanup() {
	fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
	[ -n "$S3PID" ] && kill "$S3PID" 2>/dev/null || true
	[ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
now() { date +%s.%N; }

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
# --- server and data --------------------------------------------------------
log "s3rver on $EP (data in $WORK/s3data)"
node --openssl-legacy-provider "$S3RVER" -d "$WORK/s3data" -a 127.0.0.1 -p "$PORT" --silent \
	--configure-bucket "$BUCKET" >"$WORK/s3rver.log" 2>&1 &
S3PID=$!
for _ in $(seq 100); do curl -sf "$EP/$BUCKET?list-type=2&max-keys=1" -o /dev/null && break; sleep 0.1; done
log "objects: big/object.bin ($BIG_MB MiB), list/ ($NLIST), small/ ($NSMALL x $SMALL_KB KiB)"
python3 - "$WORK/s3data" "$BUCKET" "$BIG_MB" "$NLIST" "$NSMALL" "$SMALL_KB" <<'EOF'
# Objects written in s3rver 3.7.1's own folder format (what a PUT stores).
import hashlib, json, os, sys
data, bucket, big_mb, nlist, nsmall, small_kb = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
def put(key, blob):
    parts = key.split("/")
    d = os.path.join(data, bucket, *parts[:-1]); os.makedirs(d, exist_ok=True)
    base = os.path.join(d, parts[-1])
    with open(base + "._S3rver_object", "wb") as f: f.write(blob)
    with open(base + "._S3rver_object.md5", "w") as f: f.write(hashlib.md5(blob).hexdigest())
    with open(base + "._S3rver_metadata.json", "w") as f: json.dump({"content-type": "binary/octet-stream"}, f)
put("big/object.bin", os.urandom(big_mb << 20))
for i in range(nlist): put(f"list/f{i:05d}", b"x" * (i % 100))
for i in range(nsmall): put(f"small/s{i:05d}", os.urandom(small_kb << 10))
EOF
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
BIG_BYTES=$((BIG_MB << 20))

# --- limits: curl and raw listing -----------------------------------------------
drop_caches
curl_seq=$(curl -s "$EP/$BUCKET/big/object.bin" -o /dev/null -w '%{speed_download}' | awk '{printf "%.0f", $1/1048576}')
log "curl full GET: $curl_seq MiB/s"
raw_list=$(python3 - "$PORT" "$BUCKET" <<'EOF'
import http.client, re, sys, time, urllib.parse
port, bucket = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port)
t0, token, pages = time.time(), None, 0
while True:
    q = {"list-type": "2", "delimiter": "/", "prefix": "list/"}
    if token: q["continuation-token"] = token
    c.request("GET", f"/{bucket}?" + urllib.parse.urlencode(q)); body = c.getresponse().read().decode()
    pages += 1
    m = re.search(r"<NextContinuationToken>([^<]*)</NextContinuationToken>", body)
    if "<IsTruncated>true</IsTruncated>" not in body or not m: break
    token = m.group(1)
print(f"{time.time() - t0:.3f}")
EOF
)
log "raw ListObjectsV2 of list/: $raw_list s"
drop_caches
curl_small=$(python3 - "$EP" "$BUCKET" "$NSMALL" "$READERS" "$WORK" <<'EOF'
# List (as the mounts do), then READERS curl processes with keep-alive GET their share.
import os, subprocess, sys, time
ep, bucket, n, readers, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
names = [f"small/s{i:05d}" for i in range(n)]
cfgs = []
for r in range(readers):
    p = os.path.join(work, f"curl{r}.cfg")
    with open(p, "w") as f:
        for k in names[r::readers]:
            f.write(f'url = "{ep}/{bucket}/{k}"\noutput = "/dev/null"\n')
    cfgs.append(p)
t0 = time.time()
subprocess.run(["curl", "-s", f"{ep}/{bucket}?list-type=2&prefix=small/", "-o", "/dev/null"], check=True)
ps = [subprocess.Popen(["curl", "-s", "-K", c]) for c in cfgs]
for p in ps: p.wait()
print(f"{n / (time.time() - t0):.0f}")
EOF
)
log "curl ${READERS}-way small GETs: $curl_small files/s"

# --- one client ------------------------------------------------------------------
mount_client() {
	local c=$1 cache=$WORK/cache-$1
	rm -rf "$cache"; mkdir -p "$cache"
	case $c in
	dorafs)
		"$DORAFS" mount "s3://$BUCKET" "$MNT" -o "s3.endpoint=$EP,local_data_cache=$cache,local_data_cache_size=4GB${DORAFS_OPTS:+,$DORAFS_OPTS}" ;;
	s3fs)
		echo "S3RVER:S3RVER" > "$WORK/s3fs.passwd"; chmod 600 "$WORK/s3fs.passwd"
		s3fs "$BUCKET" "$MNT" -o "url=$EP,use_path_request_style,passwd_file=$WORK/s3fs.passwd,use_cache=$cache" ;;
	rclone)
		env -u AWS_CA_BUNDLE RCLONE_CONFIG_S3B_TYPE=s3 RCLONE_CONFIG_S3B_PROVIDER=Other \
			RCLONE_CONFIG_S3B_ENDPOINT="$EP" RCLONE_CONFIG_S3B_ACCESS_KEY_ID=S3RVER \
			RCLONE_CONFIG_S3B_SECRET_ACCESS_KEY=S3RVER RCLONE_CONFIG_S3B_FORCE_PATH_STYLE=true \
			rclone mount "s3b:$BUCKET" "$MNT" --vfs-cache-mode full --cache-dir "$cache" --daemon ;;
	esac
	for _ in $(seq 100); do mountpoint -q "$MNT" && return 0; sleep 0.1; done
	die "$c did not mount"
}
client_pid() {
	case $1 in
	dorafs) pgrep -f "dorafs mount s3://$BUCKET $MNT" | head -1 ;;
	s3fs) pgrep -x s3fs | head -1 ;;
	rclone) pgrep -f "rclone mount s3b:$BUCKET" | head -1 ;;
	esac
}
unmount_client() {
	fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT"
	for _ in $(seq 100); do [ -z "$(client_pid "$1")" ] && break; sleep 0.1; done
}
seq_read() { # MiB/s of reading the big object once
	local t0 t1; t0=$(now); dd if="$MNT/big/object.bin" of=/dev/null bs=1M status=none; t1=$(now)
	awk -v b="$BIG_BYTES" -v a="$t0" -v z="$t1" 'BEGIN{printf "%.0f", b/1048576/(z-a)}'
}

fio_mib() { # fio randread 4 KiB on the big object, 4 jobs; prints MiB/s
	fio --name=rr --filename="$MNT/big/object.bin" --rw=randread --bs=4k --numjobs=4 --group_reporting \
		--ioengine=psync --runtime="$1" --time_based --output-format=json 2>/dev/null |
		python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["jobs"][0]["read"]["bw"] / 1024))'
}

declare -A SEQ LS SMALL WARM RSS RR1 RRN RRSS
for c in $CLIENTS; do
	log "$c: cold caches"
	drop_caches
	mount_client "$c"
	SEQ[$c]=$(seq_read)
	log "$c: cold sequential ${SEQ[$c]} MiB/s"
	t0=$(now); ls -l "$MNT/list" > /dev/null; t1=$(now)
	LS[$c]=$(awk -v a="$t0" -v z="$t1" 'BEGIN{printf "%.2f", z-a}')
	log "$c: ls -l of $NLIST: ${LS[$c]} s"
	SMALL[$c]=$(python3 - "$MNT/small" "$READERS" "$NSMALL" <<'EOF'
import os, sys, time
from concurrent.futures import ThreadPoolExecutor
d, readers = sys.argv[1], int(sys.argv[2])
def read(name):
    with open(os.path.join(d, name), "rb") as f:
        while f.read(1 << 20): pass
t0 = time.time()
# List with attributes (as ls -l does), then read. Plain listdir is not used:
# dorafs's FUSE readdir (not readdirplus) gives entries d_ino 0, which glibc
# skips, so a plain listing of a big folder loses entries (reported).
names = [e.name for e in os.scandir(d) if e.stat().st_size >= 0]
with ThreadPoolExecutor(readers) as ex: list(ex.map(read, names))
rate = len(names) / (time.time() - t0)
if len(names) != int(sys.argv[3]):
    print(f"listing gave {len(names)} of {sys.argv[3]} files", file=sys.stderr)
print(f"{rate:.0f}")
EOF
)
	log "$c: small files ${SMALL[$c]} files/s"
	drop_caches
	WARM[$c]=$(seq_read)
	log "$c: warm re-read ${WARM[$c]} MiB/s"
	pid=$(client_pid "$c")
	RSS[$c]=$( [ -n "$pid" ] && awk '/VmHWM/{printf "%.0f", $2/1024}' "/proc/$pid/status" || echo "?")
	if [ "$c" = dorafs ]; then "$DORAFS" stat --json "$MNT" > "$WORK/dorafs-stats.json" || true; fi
	unmount_client "$c"
	if [ "$FIO_RUNTIME" -gt 0 ] && command -v fio >/dev/null; then
		# Random reads on a fresh mount with cold caches. The first second is
		# reported apart: a client that pulls whole objects looks warm later.
		drop_caches
		mount_client "$c"
		RR1[$c]=$(fio_mib 1)
		RRN[$c]=$(fio_mib "$FIO_RUNTIME")
		pid=$(client_pid "$c")
		RRSS[$c]=$( [ -n "$pid" ] && awk '/VmHWM/{printf "%.0f", $2/1024}' "/proc/$pid/status" || echo "?")
		log "$c: random 4 KiB reads: first second ${RR1[$c]} MiB/s, next ${FIO_RUNTIME} s ${RRN[$c]} MiB/s, peak ${RRSS[$c]} MiB"
		unmount_client "$c"
	fi
done

# --- table ------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "-" }'; }
echo
echo "s3rver 3.7.1 on 127.0.0.1, $BIG_MB MiB object, $NLIST-object listing, $NSMALL x $SMALL_KB KiB, $READERS readers"
echo "load average at start: $LOAD_START, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| %-8s | %10s | %7s | %9s | %7s | %12s | %7s | %12s | %8s |\n' client "cold MiB/s" "x curl" "ls -l (s)" "x raw" "small files/s" "x curl" "warm MiB/s" "peak MiB"
printf '|%s|\n' "----------|------------|---------|-----------|---------|--------------|---------|--------------|----------"
printf '| %-8s | %10s | %7s | %9s | %7s | %12s | %7s | %12s | %8s |\n' curl "$curl_seq" 1.00 "$raw_list" 1.00 "$curl_small" 1.00 - -
for c in $CLIENTS; do
	printf '| %-8s | %10s | %7s | %9s | %7s | %12s | %7s | %12s | %8s |\n' "$c" "${SEQ[$c]}" "$(ratio "${SEQ[$c]}" "$curl_seq")" \
		"${LS[$c]}" "$(ratio "${LS[$c]}" "$raw_list")" "${SMALL[$c]}" "$(ratio "${SMALL[$c]}" "$curl_small")" \
		"${WARM[$c]}" "${RSS[$c]}"
done
if [ "$FIO_RUNTIME" -gt 0 ]; then
	echo
	printf '| %-8s | %22s | %22s | %8s |\n' client "randread 1st s MiB/s" "randread next MiB/s" "peak MiB"
	printf '|%s|\n' "----------|------------------------|------------------------|----------"
	for c in $CLIENTS; do
		printf '| %-8s | %22s | %22s | %8s |\n' "$c" "${RR1[$c]:-}" "${RRN[$c]:-}" "${RRSS[$c]:-}"
	done
fi
[ -f "$WORK/dorafs-stats.json" ] && python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); u=d["ufs"]
print("dorafs S3 requests:", u["requests"], "retries:", u["retries"])' "$WORK/dorafs-stats.json"
