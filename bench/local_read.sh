#!/usr/bin/env bash
# bench/local_read.sh: read throughput of a warm dorafs page cache, compared
# with the raw cache disk and with the FUSE floor (bench/fuse_floor.c).
# See bench/README.md for what every figure means. Needs root (FUSE mounts,
# drop_caches, sysctl/bdi tuning).
#
# Environment knobs (defaults in brackets):
#   DORAFS_BUILD_DIR  build folder with cli/dorafs and bench/* [<repo>/build]
#   BENCH_DIR         work folder (UFS, cache, mount points) [mktemp -d under /var/tmp]
#   SIZE_MB           size of the test file in MiB [1024]
#   REPS              timed repetitions of each sequential read [3]
#   FIO_RUNTIME       seconds per fio run [8]
#   FIO_JOBS          fio job counts to run [1 2]
#   FIO_REPS          fio runs per configuration (median kept) [1]
#   MODES             "buffered" and/or "direct_io" [buffered direct_io]
#   KEEP=1            keep BENCH_DIR afterwards
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${DORAFS_BUILD_DIR:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SIZE_MB=${SIZE_MB:-1024}
REPS=${REPS:-3}
FIO_RUNTIME=${FIO_RUNTIME:-8}
FIO_JOBS=${FIO_JOBS:-"1 2"}
FIO_REPS=${FIO_REPS:-1}
MODES=${MODES:-"buffered direct_io"}

die() { echo "local_read.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

[ "$(id -u)" = 0 ] || die "run as root (FUSE mounts, drop_caches, read-ahead tuning)"
command -v fio >/dev/null || { apt-get install -y fio >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y fio >/dev/null; }; } ||
	die "fio is missing and could not be installed"
command -v fusermount3 >/dev/null || die "fusermount3 is missing (apt-get install fuse3)"

# --- binaries -------------------------------------------------------------
DORAFS=$BUILD/cli/dorafs
FLOOR=$BUILD/bench/fuse_floor
PAGE_READ=$BUILD/bench/page_read
if [ ! -x "$DORAFS" ] || [ ! -x "$FLOOR" ] || [ ! -x "$PAGE_READ" ]; then
	log "building dorafs, fuse_floor and page_read in $BUILD"
	cmake --build "$BUILD" -j2 --target dorafs fuse_floor page_read >/dev/null 2>&1 || true
fi
[ -x "$DORAFS" ] || die "$DORAFS is missing: build dorafs first (scripts/setup.sh)"

# --- work folder and clean-up ----------------------------------------------
WORK=${BENCH_DIR:-$(mktemp -d /var/tmp/dorafs-bench.XXXXXX)}
mkdir -p "$WORK"/{ufs,cache,mnt,floor,bin}
UFS=$WORK/ufs CACHE=$WORK/cache MNT=$WORK/mnt FMNT=$WORK/floor
FILE=data.bin
FLOOR_PID=

# If the CMake build of the helpers failed (e.g. another part of the tree does
# not configure right now), compile them directly: they only need libfuse3.
for tool in fuse_floor page_read; do
	var=$([ $tool = fuse_floor ] && echo FLOOR || echo PAGE_READ)
	if [ ! -x "${!var}" ]; then
		cc -O2 -Wall -D_FILE_OFFSET_BITS=64 -o "$WORK/bin/$tool" "$ROOT/bench/$tool.c" \
			$(pkg-config --cflags --libs fuse3) -lpthread || die "cannot build $tool"
		printf -v "$var" '%s' "$WORK/bin/$tool"
	fi
done

is_mounted() { grep -q " $1 " /proc/self/mountinfo; }

unmount() { # mount point [pid to wait for]
	local m=$1 pid=${2:-} i
	if is_mounted "$m"; then
		fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	fi
	# Wait for the daemon to finish (a new mount on the same point must not race it).
	for i in $(seq 100); do
		is_mounted "$m" && { sleep 0.1; continue; }
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && { sleep 0.1; continue; }
		break
	done
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
	fi
}

cleanup() {
	local rc=$?
	set +e
	unmount "$MNT" "$(dorafs_pid)"
	unmount "$FMNT" "$FLOOR_PID"
	if [ "${KEEP:-0}" = 1 ] || [ -n "${BENCH_DIR:-}" ]; then
		echo "work folder kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The dorafs daemon serving $MNT (the background child of `dorafs mount`).
dorafs_pid() {
	local p
	for p in $(pgrep -x dorafs 2>/dev/null); do
		if tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | grep -q -- " $MNT"; then echo "$p"; return; fi
	done
}

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# MB/s (10^6 bytes per second, as dd prints) of `dd bs=1M` of a file.
dd_mbs() {
	local out
	out=$(dd if="$1" of=/dev/null bs=1M 2>&1 | tail -n 1) || die "dd of $1 failed: $out"
	awk -v want=$((SIZE_MB * 1048576)) '{ if ($1 != want) { print "short read: " $0 > "/dev/stderr"; exit 1 }
		for (i = 1; i <= NF; i++) if ($i == "s,") s = $(i - 1); printf "%.0f\n", $1 / s / 1e6 }' <<<"$out"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "nan" }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t) ? "met" : "MISSED" }'; }

# fio 4 KiB random reads; prints "IOPS p50_usec".
fio_rand() { # file jobs
	local r
	r=$(fio --name=randread --filename="$1" --rw=randread --bs=4k --ioengine=psync --numjobs="$2" \
		--time_based --runtime="$FIO_RUNTIME" --group_reporting --readonly \
		--output-format=terse --terse-version=3) || die "fio on $1 failed"
	awk -F';' '{ p50 = "?"; for (i = 18; i <= 37; i++) if ($i ~ /^50\.0+%=/) { split($i, a, "="); p50 = a[2] }
		printf "%.0f %s\n", $8, p50 }' <<<"$r"
}

mount_dorafs() { # mode
	local extra=
	[ "$1" = direct_io ] && extra=,direct_io
	"$DORAFS" mount "$UFS" "$MNT" -o "local_data_cache=$CACHE,local_data_cache_size=2GB$extra" ||
		die "dorafs mount failed"
}

mount_floor() { # mode
	local extra=
	[ "$1" = direct_io ] && extra=--direct-io
	"$FLOOR" "$UFS/$FILE" "$FMNT" $extra >"$WORK/floor.log" 2>&1 &
	FLOOR_PID=$!
	for _ in $(seq 50); do is_mounted "$FMNT" && return 0; sleep 0.1; done
	cat "$WORK/floor.log" >&2
	die "fuse_floor did not mount"
}

# --- the test file -------------------------------------------------------------
log "work folder $WORK ($(df --output=fstype,source "$WORK" | tail -n 1 | tr -s " "))"
log "creating a $SIZE_MB MiB random file"
head -c $((SIZE_MB * 1048576)) /dev/urandom >"$UFS/$FILE"
sync

RESULTS=$WORK/results.txt
: >"$RESULTS"
record() { echo "$*" >>"$RESULTS"; }   # mode key value

log "load before: $(cut -d' ' -f1-3 /proc/loadavg)  ($(nproc) CPUs; other work on the machine skews every figure)"
for mode in $MODES; do
	log "mode $mode: mounting dorafs and fuse_floor"
	mount_dorafs "$mode"
	mount_floor "$mode"
	log "mode $mode: warming the page cache (first read through dorafs; after a restart it also verifies each page)"
	cmp "$UFS/$FILE" "$MNT/$FILE" || die "dorafs returned different bytes"
	cmp "$UFS/$FILE" "$FMNT/$FILE" || die "fuse_floor returned different bytes"
	npages=$(find "$CACHE" -type f -name '*-[0-9]*' | wc -l)
	log "mode $mode: $npages page files in the cache; read-ahead dorafs $(cat /sys/class/bdi/$(mountpoint -d "$MNT")/read_ahead_kb) KiB, floor $(cat /sys/class/bdi/$(mountpoint -d "$FMNT")/read_ahead_kb) KiB, pipe-max-size $(cat /proc/sys/fs/pipe-max-size)"

	declare -A sq=()
	for rep in $(seq "$REPS"); do
		drop_caches; d=$(dd_mbs "$MNT/$FILE")
		drop_caches; f=$(dd_mbs "$FMNT/$FILE")
		drop_caches; p=$("$PAGE_READ" "$CACHE" $((SIZE_MB * 1048576)) | awk '{ printf "%.0f\n", $3 }')
		drop_caches; u=$(dd_mbs "$UFS/$FILE")
		log "mode $mode: rep $rep  dorafs $d  floor $f  raw-pages $p  raw-ufs $u  MB/s"
		sq[dorafs]+="$d " sq[floor]+="$f " sq[pages]+="$p " sq[ufs]+="$u "
	done
	for k in dorafs floor pages ufs; do
		record "$mode seq_$k $(tr ' ' '\n' <<<"${sq[$k]}" | grep . | median)"
	done
	unset sq

	for jobs in $FIO_JOBS; do
		for who in dorafs floor; do
			m=$MNT; [ $who = floor ] && m=$FMNT
			vals=
			for _ in $(seq "$FIO_REPS"); do
				drop_caches
				out=$(fio_rand "$m/$FILE" "$jobs")
				read -r iops p50 <<<"$out"
				log "mode $mode: fio randread 4k ${jobs} job(s) $who: $iops IOPS, clat p50 $p50 us"
				vals+="$iops "
			done
			record "$mode rand${jobs}_$who $(tr ' ' '\n' <<<"$vals" | grep . | median)"
		done
	done

	log "mode $mode: unmounting"
	unmount "$MNT" "$(dorafs_pid)"
	unmount "$FMNT" "$FLOOR_PID"
	FLOOR_PID=
done
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- report ------------------------------------------------------------------------
get() { awk -v m="$1" -v k="$2" '$1 == m && $2 == k { print $3 }' "$RESULTS"; }
echo
echo "dorafs local read benchmark: ${SIZE_MB} MiB file, kernel page cache dropped before every run, dorafs page cache warm"
echo "MB/s = 10^6 bytes/s (dd); medians of $REPS runs; fio: psync, 4 KiB, ${FIO_RUNTIME} s, median of $FIO_REPS run(s)"
echo
printf '%-10s %-26s %10s %10s %10s %10s %13s %11s %14s\n' mode test dorafs floor raw-pages raw-ufs dorafs/floor dorafs/raw dorafs/raw-ufs
missed=0
for mode in $MODES; do
	d=$(get "$mode" seq_dorafs) f=$(get "$mode" seq_floor) p=$(get "$mode" seq_pages) u=$(get "$mode" seq_ufs)
	rf=$(ratio "$d" "$f") rp=$(ratio "$d" "$p") ru=$(ratio "$d" "$u")
	printf '%-10s %-26s %10s %10s %10s %10s %13s %11s %14s\n' "$mode" "seq 1 MiB (MB/s)" "$d" "$f" "$p" "$u" "$rf" "$rp" "$ru"
	for jobs in $FIO_JOBS; do
		d=$(get "$mode" "rand${jobs}_dorafs") f=$(get "$mode" "rand${jobs}_floor")
		printf '%-10s %-26s %10s %10s %10s %10s %13s %11s %14s\n' "$mode" "rand 4 KiB ${jobs} job(s) (IOPS)" "$d" "$f" - - "$(ratio "$d" "$f")" - -
	done
done
echo
echo "targets: sequential >= 0.9x floor and >= 0.6x raw (raw = page files read from the cache folder); random 4 KiB >= 0.8x floor"
for mode in $MODES; do
	d=$(get "$mode" seq_dorafs)
	r=$(ratio "$d" "$(get "$mode" seq_floor)"); v=$(verdict "$r" 0.9); [ "$v" = met ] || missed=1
	line="$mode: seq/floor $r $v"
	r=$(ratio "$d" "$(get "$mode" seq_pages)"); v=$(verdict "$r" 0.6); [ "$v" = met ] || missed=1
	line+=", seq/raw $r $v"
	for jobs in $FIO_JOBS; do
		r=$(ratio "$(get "$mode" "rand${jobs}_dorafs")" "$(get "$mode" "rand${jobs}_floor")"); v=$(verdict "$r" 0.8); [ "$v" = met ] || missed=1
		line+=", rand ${jobs}j/floor $r $v"
	done
	echo "  $line"
done
exit 0
