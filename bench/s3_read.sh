#!/usr/bin/env bash
# bench/s3_read.sh: dorafs over S3 vs s3fs-fuse vs rclone mount, against one
# s3rver on 127.0.0.1, with curl / raw ListObjectsV2 as the limits.
# One run: the same 1 GiB object, a 10k-object prefix and 2,000 objects of
# 100 KiB; every client starts with cold caches (its own cache folder empty,
# kernel page cache dropped after a sync). s3rver is warmed up first (untimed);
# then REPS repetitions, each mounting every client fresh and measuring every
# figure between two runs of its baseline (curl / raw listing), compared with
# their mean; the table gives medians of the figures and of the per-repetition
# ratios. See bench/README.md (S3 section).
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
#   REPS              repetitions of every paired figure, per client [3]
#   H2H               rounds of the head-to-head cold sequential read [5]
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
REPS=${REPS:-3}
H2H=${H2H:-5}
DORAFS=$BUILD/cli/dorafs
S3RVER=$ROOT/tests/tools/node_modules/.bin/s3rver
BUCKET=bench

die() { echo "s3_read.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

[ "$(id -u)" = 0 ] || die "run as root (FUSE mounts, drop_caches)"
[ -x "$DORAFS" ] || die "$DORAFS is missing: build dorafs first"
[ -x "$S3RVER" ] || die "s3rver is missing: run scripts/setup.sh"
[ "$REPS" -ge 1 ] 2>/dev/null || die "REPS must be a number >= 1"
[ "$H2H" -ge 0 ] 2>/dev/null || die "H2H must be a number >= 0"
for c in $CLIENTS; do
	case $c in
	s3fs) command -v s3fs >/dev/null || apt-get install -y s3fs >/dev/null || die "s3fs missing" ;;
	rclone) command -v rclone >/dev/null || apt-get install -y rclone >/dev/null || die "rclone missing" ;;
	esac
done

WORK=${BENCH_DIR:-$(mktemp -d /var/tmp/dorafs-s3bench.XXXXXX)}
mkdir -p "$WORK"/{s3data,mnt}
# No cache is deleted before the end (see mount_client): every mount's cache
# stays, so check the disk holds them all, plus the data set.
NCLIENTS=$(echo $CLIENTS | wc -w)
NEED_MB=$(( (NCLIENTS * (REPS + H2H + 1) + 1) * (BIG_MB + NSMALL * SMALL_KB / 1024) + 512 ))
FREE_MB=$(df -Pm "$WORK" | awk 'NR == 2 {print $4}')
[ "$FREE_MB" -ge "$NEED_MB" ] || die "$WORK has $FREE_MB MiB free, the run needs about $NEED_MB MiB"
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

# Before every timed figure, baseline and client alike: write back whatever
# the previous phase left dirty (cache files, the data set), then drop the
# kernel's caches, so s3rver reads its files from the disk for both sides.
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
now() { date +%s.%N; }

T_START=$(date +%s)
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


# --- helpers in Python: listings, curl's small GETs, the mounts' small reads ----
cat > "$WORK/s3bench.py" <<'EOF'
import http.client, os, re, subprocess, sys, time, urllib.parse

def list_all(port, bucket, prefix):
    """Every ListObjectsV2 page of prefix (delimiter "/", following
    NextContinuationToken) over one keep-alive connection; the keys."""
    c = http.client.HTTPConnection("127.0.0.1", port)
    token, keys = None, []
    while True:
        q = {"list-type": "2", "delimiter": "/", "prefix": prefix}
        if token: q["continuation-token"] = token
        c.request("GET", f"/{bucket}?" + urllib.parse.urlencode(q))
        r = c.getresponse(); body = r.read().decode()
        if r.status != 200: sys.exit(f"LIST {prefix}: HTTP {r.status}")
        keys += re.findall(r"<Key>([^<]*)</Key>", body)
        m = re.search(r"<NextContinuationToken>([^<]*)</NextContinuationToken>", body)
        if "<IsTruncated>true</IsTruncated>" not in body or not m: break
        token = m.group(1)
    c.close()
    return keys

def check(what, got, want):
    if got != want: print(f"{what}: {got} of {want}", file=sys.stderr)

mode, args = sys.argv[1], sys.argv[2:]
if mode == "list":  # PORT BUCKET PREFIX N: seconds of the raw listing
    port, bucket, prefix, n = int(args[0]), args[1], args[2], int(args[3])
    t0 = time.time(); keys = list_all(port, bucket, prefix); t = time.time() - t0
    check(f"raw listing of {prefix}", len(keys), n)
    print(f"{t:.3f}")
elif mode == "curlsmall":  # PORT BUCKET PREFIX N READERS WORK: files/s
    # List every page (as the mounts do), then READERS curl processes with
    # keep-alive GET their share of the listed keys.
    port, bucket, prefix, n, readers, work = int(args[0]), args[1], args[2], int(args[3]), int(args[4]), args[5]
    t0 = time.time()
    keys = list_all(port, bucket, prefix)
    cfgs = []
    for r in range(readers):
        p = os.path.join(work, f"curl{r}.cfg")
        with open(p, "w") as f:
            if os.environ.get("CURL_SIGN") == "1":
                f.write('aws-sigv4 = "aws:amz:us-east-1:s3"\n'
                        f'user = "{os.environ["AWS_ACCESS_KEY_ID"]}:{os.environ["AWS_SECRET_ACCESS_KEY"]}"\n'
                        'header = "x-amz-content-sha256: UNSIGNED-PAYLOAD"\n')
            for k in keys[r::readers]:
                f.write(f'url = "http://127.0.0.1:{port}/{bucket}/{k}"\noutput = "/dev/null"\n')
        cfgs.append(p)
    ps = [subprocess.Popen(["curl", "-sf", "-K", c]) for c in cfgs]
    bad = sum(p.wait() != 0 for p in ps)
    t = time.time() - t0
    check(f"curl listing of {prefix}", len(keys), n)
    if bad: print(f"{bad} curl processes failed", file=sys.stderr)
    print(f"{len(keys) / t:.0f}")
elif mode == "mountsmall":  # DIR READERS N: files/s
    from concurrent.futures import ThreadPoolExecutor
    d, readers, n = args[0], int(args[1]), int(args[2])
    def read(name):
        with open(os.path.join(d, name), "rb") as f:
            while f.read(1 << 20): pass
    t0 = time.time()
    # List with attributes (as ls -l does, or a loader that needs sizes), then
    # read: the same listing work for every mount.
    names = [e.name for e in os.scandir(d) if e.stat().st_size >= 0]
    with ThreadPoolExecutor(readers) as ex: list(ex.map(read, names))
    t = time.time() - t0
    check("listing", len(names), n)
    print(f"{len(names) / t:.0f}")
EOF

# --- s3rver warm-up (untimed) ---------------------------------------------------------
# node compiles s3rver's hot paths on first use: the first GETs and listings
# after start are slower than later ones, whichever side comes first. Every
# baseline runs once untimed: the same paths the clients take.
log "s3rver warm-up (untimed): 2 listings of list/, curl's listing and $NSMALL GETs of small/ unsigned and signed, the big object once"
for _ in 1 2; do python3 "$WORK/s3bench.py" list "$PORT" "$BUCKET" list/ "$NLIST" >/dev/null; done
python3 "$WORK/s3bench.py" curlsmall "$PORT" "$BUCKET" small/ "$NSMALL" "$READERS" "$WORK" >/dev/null
CURL_SIGN=1 python3 "$WORK/s3bench.py" curlsmall "$PORT" "$BUCKET" small/ "$NSMALL" "$READERS" "$WORK" >/dev/null
curl -sf "$EP/$BUCKET/big/object.bin" -o /dev/null

# --- baselines: curl and the raw listing -------------------------------------------
base_seq() { # MiB/s of curl's full GET of the big object
	drop_caches
	curl -sf "$EP/$BUCKET/big/object.bin" -o /dev/null -w '%{speed_download}' | awk '{printf "%.0f", $1/1048576}'
}
base_list() { # seconds of the ListObjectsV2 pages of list/
	drop_caches
	python3 "$WORK/s3bench.py" list "$PORT" "$BUCKET" list/ "$NLIST"
}
base_small() { # files/s of curl's READERS-way GETs of small/, after listing it
	drop_caches
	CURL_SIGN=0 python3 "$WORK/s3bench.py" curlsmall "$PORT" "$BUCKET" small/ "$NSMALL" "$READERS" "$WORK"
}
# The same GETs SigV4-signed, as every client's are: s3rver parses the
# Authorization header of a signed request, which costs its one JavaScript
# thread (the bottleneck here) about 7 % more per GET. A second baseline,
# for scale; the target's ratio is to the unsigned one.
base_small_signed() {
	drop_caches
	CURL_SIGN=1 python3 "$WORK/s3bench.py" curlsmall "$PORT" "$BUCKET" small/ "$NSMALL" "$READERS" "$WORK"
}

# --- one client ------------------------------------------------------------------
# Every mount gets a new, empty cache folder, and no cache is deleted before
# the run ends: on ext4 without a journal (this VM's disk) creating a file
# right after mass deletion scans for inodes not deleted in the last minutes
# (recently_deleted), which cost dorafs a quarter of its CPU on the small
# files when the previous mount's cache was removed just before.
NMOUNT=0
mount_client() {
	local c=$1 cache
	NMOUNT=$((NMOUNT + 1)); cache=$WORK/cache-$NMOUNT-$1
	mkdir -p "$cache"
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
client_hwm() { # peak resident MiB of the client's process, or ?
	local pid; pid=$(client_pid "$1")
	{ [ -n "$pid" ] && awk '/VmHWM/{printf "%.0f", $2/1024}' "/proc/$pid/status"; } || echo "?"
}
unmount_client() {
	fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT"
	for _ in $(seq 100); do [ -z "$(client_pid "$1")" ] && break; sleep 0.1; done
}
seq_read() { # MiB/s of reading the big object once
	local t0 t1; t0=$(now); dd if="$MNT/big/object.bin" of=/dev/null bs=1M status=none; t1=$(now)
	awk -v b="$BIG_BYTES" -v a="$t0" -v z="$t1" 'BEGIN{printf "%.0f", b/1048576/(z-a)}'
}
cli_seq() { drop_caches; seq_read; }
cli_ls() { # seconds of ls -l of list/
	local t0 t1 n
	drop_caches
	t0=$(now); n=$(ls -l "$MNT/list" | wc -l); t1=$(now)
	[ "$n" -eq $((NLIST + 1)) ] || echo "ls -l gave $((n - 1)) of $NLIST entries" >&2
	awk -v a="$t0" -v z="$t1" 'BEGIN{printf "%.2f", z-a}'
}
cli_small() { # files/s of READERS threads reading small/, after listing it
	drop_caches
	python3 "$WORK/s3bench.py" mountsmall "$MNT/small" "$READERS" "$NSMALL"
}

fio_mib() { # fio randread 4 KiB on the big object, 4 jobs; prints MiB/s
	fio --name=rr --filename="$MNT/big/object.bin" --rw=randread --bs=4k --numjobs=4 --group_reporting \
		--ioengine=psync --runtime="$1" --time_based --output-format=json 2>/dev/null |
		python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["jobs"][0]["read"]["bw"] / 1024))'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "-" }'; }
median() { # median of the numbers in $1, printed with format $2
	printf '%s\n' $1 | sort -g | awk -v f="$2" '{a[NR] = $1}
		END { if (!NR) { print "-"; exit }
		      printf f, NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
maxof() { printf '%s\n' $1 | grep -v '?' | sort -g | tail -1 | grep . || echo "?"; }

# pair REP BASELINE CLIENT: the client's figure between two runs of its
# baseline; B is the mean of the two, so a drift of the machine's speed
# during the figure (this VM's can change by 2x within minutes) hits both
# sides alike. Sets B and C.
pair() {
	local b1 b2
	b1=$($2); C=$($3); b2=$($2)
	B=$(awk -v a="$b1" -v b="$b2" -v f="$4" 'BEGIN{printf f, (a + b) / 2}')
}

# Per client, space-separated per-repetition values: the client's figure, the
# baseline measured next to it and their ratio.
declare -A SEQ BSEQ XSEQ LS BLS XLS SMALL BSMALL XSMALL SSMALL XSSMALL WARM RSS RR1 RRN RRSS
ALL_BSEQ= ALL_BLS= ALL_BSMALL= ALL_SSMALL=
for r in $(seq "$REPS"); do
	for c in $CLIENTS; do
		log "rep $r/$REPS $c: fresh mount, cold caches (load $(cut -d' ' -f1 /proc/loadavg))"
		drop_caches
		mount_client "$c"
		pair "$r" base_seq cli_seq %.0f
		SEQ[$c]+=" $C" BSEQ[$c]+=" $B" XSEQ[$c]+=" $(ratio "$C" "$B")" ALL_BSEQ+=" $B"
		log "rep $r $c: cold sequential $C MiB/s, curl $B MiB/s: x $(ratio "$C" "$B")"
		pair "$r" base_list cli_ls %.3f
		LS[$c]+=" $C" BLS[$c]+=" $B" XLS[$c]+=" $(ratio "$C" "$B")" ALL_BLS+=" $B"
		log "rep $r $c: ls -l of $NLIST $C s, raw listing $B s: x $(ratio "$C" "$B")"
		# Both baselines around the figure, nested (unsigned, signed, the
		# client, signed, unsigned), so drift hits each pair alike.
		b1=$(base_small); g1=$(base_small_signed); C=$(cli_small); g2=$(base_small_signed); b2=$(base_small)
		B=$(awk -v a="$b1" -v b="$b2" 'BEGIN{printf "%.0f", (a + b) / 2}')
		G=$(awk -v a="$g1" -v b="$g2" 'BEGIN{printf "%.0f", (a + b) / 2}')
		SMALL[$c]+=" $C" BSMALL[$c]+=" $B" XSMALL[$c]+=" $(ratio "$C" "$B")" ALL_BSMALL+=" $B"
		SSMALL[$c]+=" $G" XSSMALL[$c]+=" $(ratio "$C" "$G")" ALL_SSMALL+=" $G"
		log "rep $r $c: small files $C files/s, curl $B files/s: x $(ratio "$C" "$B"); signed curl $G files/s: x $(ratio "$C" "$G")"
		drop_caches
		w=$(seq_read)
		WARM[$c]+=" $w"
		log "rep $r $c: warm re-read $w MiB/s"
		RSS[$c]+=" $(client_hwm "$c")"
		if [ "$c" = dorafs ]; then
			"$DORAFS" stat --json "$MNT" > "$WORK/dorafs-stats.$r.json" || rm -f "$WORK/dorafs-stats.$r.json"
		fi
		unmount_client "$c"
	done
done
if [ "$FIO_RUNTIME" -gt 0 ] && command -v fio >/dev/null; then
	for c in $CLIENTS; do
		# Random reads on a fresh mount with cold caches, once per client. The
		# first second is reported apart: a client that pulls whole objects
		# looks warm later.
		drop_caches
		mount_client "$c"
		RR1[$c]=$(fio_mib 1)
		RRN[$c]=$(fio_mib "$FIO_RUNTIME")
		RRSS[$c]=$(client_hwm "$c")
		log "$c: random 4 KiB reads: first second ${RR1[$c]} MiB/s, next ${FIO_RUNTIME} s ${RRN[$c]} MiB/s, peak ${RRSS[$c]} MiB"
		unmount_client "$c"
	done
fi

# --- head to head: cold sequential, the clients alternating ------------------------
# The ratios above divide by curl's single-stream GET, the noisiest figure
# here (222 to 528 MiB/s back to back on a quiet machine), and each client
# is divided by its own curl runs. To rank the clients against each other,
# each round mounts every client fresh and reads the big object once, in an
# order that rotates between rounds, so drift hits all of them alike.
declare -A H2HV
set -- $CLIENTS
for h in $(seq "$H2H"); do
	order=
	for i in $(seq 0 $(($# - 1))); do
		k=$(( (i + h - 1) % $# + 1 )); order+=" ${!k}"
	done
	for c in $order; do
		drop_caches
		mount_client "$c"
		v=$(cli_seq)
		H2HV[$c]+=" $v"
		unmount_client "$c"
	done
	log "head to head round $h/$H2H ($order):$(for c in $CLIENTS; do printf ' %s %s' "$c" "$(echo ${H2HV[$c]} | awk '{print $NF}')"; done) MiB/s"
done

# --- table ------------------------------------------------------------------------
echo
echo "s3rver 3.7.1 on 127.0.0.1, $BIG_MB MiB object, $NLIST-object listing, $NSMALL x $SMALL_KB KiB, $READERS readers"
echo "load average at start: $LOAD_START, at end: $(cut -d' ' -f1-3 /proc/loadavg); run took $(( $(date +%s) - T_START )) s"
echo "$REPS repetitions; figures: medians; x columns: median of the per-repetition ratios to the baseline measured next to the figure"
echo
row='| %-15s | %10s | %6s | %9s | %6s | %13s | %6s | %8s | %10s | %8s |\n'
echo "| client          | cold MiB/s | × curl | ls -l (s) |  × raw | small files/s | × curl | × signed | warm MiB/s | peak MiB |"
echo "|-----------------|------------|--------|-----------|--------|---------------|--------|----------|------------|----------|"
printf "$row" "curl / raw list" "$(median "$ALL_BSEQ" %.0f)" 1.00 "$(median "$ALL_BLS" %.2f)" 1.00 \
	"$(median "$ALL_BSMALL" %.0f)" 1.00 - - -
printf "$row" "curl, signed" - - - - "$(median "$ALL_SSMALL" %.0f)" - 1.00 - -
for c in $CLIENTS; do
	printf "$row" "$c" "$(median "${SEQ[$c]}" %.0f)" "$(median "${XSEQ[$c]}" %.2f)" \
		"$(median "${LS[$c]}" %.2f)" "$(median "${XLS[$c]}" %.2f)" \
		"$(median "${SMALL[$c]}" %.0f)" "$(median "${XSMALL[$c]}" %.2f)" "$(median "${XSSMALL[$c]}" %.2f)" \
		"$(median "${WARM[$c]}" %.0f)" "$(maxof "${RSS[$c]}")"
done
echo
echo "× curl: to curl's unsigned GETs (the target's baseline); × signed: to the same GETs SigV4-signed, as the clients' are"
echo
echo "Per repetition (ratio, then client / mean of the baseline runs before and after it):"
echo
for c in $CLIENTS; do
	line="- $c: cold × curl"
	for i in $(seq "$REPS"); do
		line+=" $(echo ${XSEQ[$c]} | cut -d' ' -f$i) ($(echo ${SEQ[$c]} | cut -d' ' -f$i)/$(echo ${BSEQ[$c]} | cut -d' ' -f$i))"
	done
	line+="; ls -l × raw"
	for i in $(seq "$REPS"); do
		line+=" $(echo ${XLS[$c]} | cut -d' ' -f$i) ($(echo ${LS[$c]} | cut -d' ' -f$i)/$(echo ${BLS[$c]} | cut -d' ' -f$i))"
	done
	line+="; small × curl"
	for i in $(seq "$REPS"); do
		line+=" $(echo ${XSMALL[$c]} | cut -d' ' -f$i) ($(echo ${SMALL[$c]} | cut -d' ' -f$i)/$(echo ${BSMALL[$c]} | cut -d' ' -f$i))"
	done
	line+="; small × signed curl"
	for i in $(seq "$REPS"); do
		line+=" $(echo ${XSSMALL[$c]} | cut -d' ' -f$i) ($(echo ${SMALL[$c]} | cut -d' ' -f$i)/$(echo ${SSMALL[$c]} | cut -d' ' -f$i))"
	done
	line+="; warm$(printf ' %s' ${WARM[$c]})"
	echo "$line"
done
if [ "$FIO_RUNTIME" -gt 0 ]; then
	echo
	printf '| %-8s | %22s | %22s | %8s |\n' client "randread 1st s MiB/s" "randread next MiB/s" "peak MiB"
	printf '|%s|\n' "----------|------------------------|------------------------|----------"
	for c in $CLIENTS; do
		printf '| %-8s | %22s | %22s | %8s |\n' "$c" "${RR1[$c]:-}" "${RRN[$c]:-}" "${RRSS[$c]:-}"
	done
fi
if [ "$H2H" -gt 0 ]; then
	echo
	echo "Head to head, cold sequential MiB/s ($H2H rounds, fresh mounts, rotating order): median; every round"
	echo
	for c in $CLIENTS; do
		echo "- $c: $(median "${H2HV[$c]}" %.0f);$(printf ' %s' ${H2HV[$c]})"
	done
	# Rounds each client was the fastest in.
	python3 - "$H2H" $(for c in $CLIENTS; do echo "$c=$(echo ${H2HV[$c]} | tr ' ' ,)"; done) <<'PY'
import sys
rounds = int(sys.argv[1]); vals = {a.split("=")[0]: [float(x) for x in a.split("=")[1].split(",")] for a in sys.argv[2:]}
wins = {c: 0 for c in vals}
for i in range(rounds): wins[max(vals, key=lambda c: vals[c][i])] += 1
print("- fastest in: " + ", ".join(f"{c} {w} of {rounds}" for c, w in wins.items()))
PY
fi
for r in $(seq "$REPS"); do
	[ -s "$WORK/dorafs-stats.$r.json" ] || continue
	python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); u=d["ufs"]
print("dorafs S3 requests (rep %s):" % sys.argv[2], u["requests"], "retries:", u["retries"])' "$WORK/dorafs-stats.$r.json" "$r"
done
