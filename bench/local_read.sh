#!/usr/bin/env bash
# bench/local_read.sh: read throughput of a warm dorafs page cache, compared
# with the raw cache disk and with the FUSE floor (bench/fuse_floor.c).
# See bench/README.md for what every figure means. Needs root (FUSE mounts,
# drop_caches, sysctl/bdi tuning).
#
# Environment knobs (defaults in brackets):
#   DORAFS_BUILD_DIR  build folder with cli/dorafs and bench/* [<repo>/build]
#   BENCH_DIR         work folder (UFS, cache, mount points); kept [mktemp -d under /var/tmp, removed]
#   SIZE_MB           size of the test file in MiB [1024]
#   REPS              timed repetitions of each sequential read [3]
#   FIO_RUNTIME       seconds per fio run [8]
#   FIO_JOBS          fio job counts [1 2]
#   FIO_REPS          fio runs per configuration, interleaved, median kept [1]
#   MODES             "buffered" and/or "direct_io" [buffered direct_io]
#   PHASES            "cold" (kernel page cache dropped before every run: the
#                     issue's figures) and/or "hot" (backing files kept in the
#                     kernel page cache: FUSE and daemon costs only) [cold hot]
#   DORAFS_OPTS       extra dorafs mount options, e.g. page_size=4MB []
#   KEEP=1            keep the work folder
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
PHASES=${PHASES:-"cold hot"}
DORAFS_OPTS=${DORAFS_OPTS:-}
BYTES=$((SIZE_MB * 1048576))

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
[ -x "$DORAFS" ] || cmake --build "$BUILD" -j2 --target dorafs >/dev/null 2>&1 || true
[ -x "$DORAFS" ] || die "$DORAFS is missing: build dorafs first (scripts/setup.sh)"
# Bring the helpers up to date; if that fails they are compiled below.
HELPERS_BUILT=0
cmake --build "$BUILD" -j2 --target fuse_floor page_read >/dev/null 2>&1 || HELPERS_BUILT=1

# --- work folder and clean-up ----------------------------------------------
WORK=${BENCH_DIR:-$(mktemp -d /var/tmp/dorafs-bench.XXXXXX)}
mkdir -p "$WORK"/{ufs,cache,mnt,floor,floor-pages,bin}
UFS=$WORK/ufs CACHE=$WORK/cache MNT=$WORK/mnt FMNT=$WORK/floor PMNT=$WORK/floor-pages
FILE=data.bin
FLOOR_PID= PFLOOR_PID=


is_mounted() { grep -q " $1 " /proc/self/mountinfo; }

# The dorafs daemon serving $MNT (the background child of `dorafs mount`).
dorafs_pid() {
	local p
	for p in $(pgrep -x dorafs 2>/dev/null); do
		if tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | grep -q -- " $MNT "; then echo "$p"; return; fi
	done
}

unmount() { # mount point [pid to wait for]
	local m=$1 pid=${2:-}
	if is_mounted "$m"; then
		fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	fi
	# Wait for the daemon to finish (a new mount on the same point must not race it).
	for _ in $(seq 100); do
		is_mounted "$m" && { sleep 0.1; continue; }
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && { sleep 0.1; continue; }
		break
	done
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
	fi
}

unmount_all() {
	unmount "$MNT" "$(dorafs_pid)"
	unmount "$FMNT" "$FLOOR_PID"
	unmount "$PMNT" "$PFLOOR_PID"
	FLOOR_PID= PFLOOR_PID=
}

cleanup() {
	local rc=$?
	set +e
	unmount_all
	if [ "${KEEP:-0}" = 1 ] || [ -n "${BENCH_DIR:-}" ]; then
		echo "work folder kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# If the CMake build of the helpers failed (e.g. another part of the tree does
# not configure right now), compile them directly, so they always match
# bench/*.c: they only need libfuse3.
for tool in fuse_floor page_read; do
	var=$([ $tool = fuse_floor ] && echo FLOOR || echo PAGE_READ)
	if [ "$HELPERS_BUILT" != 0 ] || [ ! -x "${!var}" ]; then
		extra=()
		[ $tool = fuse_floor ] && extra=(-I"$ROOT/fuse" "$ROOT/fuse/tune.c")
		cc -O2 -Wall -D_FILE_OFFSET_BITS=64 -o "$WORK/bin/$tool" "$ROOT/bench/$tool.c" "${extra[@]}" \
			$(pkg-config --cflags --libs fuse3) -lpthread || die "cannot build $tool"
		printf -v "$var" '%s' "$WORK/bin/$tool"
	fi
done

# Run a private copy of dorafs: the tree may be rebuilt while the benchmark runs.
DORAFS_BUILT=$(date -u -r "$DORAFS" +%FT%TZ)
cp "$DORAFS" "$WORK/bin/dorafs"
DORAFS=$WORK/bin/dorafs
REV=$(git -C "$ROOT" log -1 --format=%h 2>/dev/null || echo unknown)

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# Put the backing files (UFS file and page files) into the kernel page cache.
warm_backing() { cat "$UFS/$FILE" >/dev/null; "$PAGE_READ" "$CACHE" >/dev/null; }

prepare() { # phase
	if [ "$1" = cold ]; then drop_caches; else warm_backing; fi
}

# MB/s (10^6 bytes per second, as dd prints) of `dd bs=1M` of a file.
dd_mbs() {
	local out
	out=$(dd if="$1" of=/dev/null bs=1M 2>&1 | tail -n 1) || die "dd of $1 failed: $out"
	awk -v want=$BYTES '{ if ($1 != want) { print "short read: " $0 > "/dev/stderr"; exit 1 }
		for (i = 1; i <= NF; i++) if ($i == "s,") s = $(i - 1); printf "%.0f\n", $1 / s / 1e6 }' <<<"$out"
}

pages_mbs() { "$PAGE_READ" "$CACHE" $BYTES | awk '{ printf "%.0f\n", $3 }'; }

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
	local o="local_data_cache=$CACHE,local_data_cache_size=2GB"
	[ "$1" = direct_io ] && o+=,direct_io
	[ -n "$DORAFS_OPTS" ] && o+=",$DORAFS_OPTS"
	"$DORAFS" mount "$UFS" "$MNT" -o "$o" || die "dorafs mount failed"
}

start_floor() { # mountpoint log extra-args...; prints the pid
	local m=$1 logf=$2
	shift 2
	"$FLOOR" "$UFS/$FILE" "$m" "$@" >"$logf" 2>&1 &
	echo $!
}

wait_mounted() { # mountpoint log
	for _ in $(seq 100); do is_mounted "$1" && return 0; sleep 0.1; done
	cat "$2" >&2
	return 1
}

# --- the test file -------------------------------------------------------------
log "work folder $WORK ($(df --output=fstype,source "$WORK" | tail -n 1 | tr -s ' '))"
log "creating a $SIZE_MB MiB random file"
head -c $BYTES /dev/urandom >"$UFS/$FILE"
sync

RESULTS=$WORK/results.txt
: >"$RESULTS"
record() { echo "$*" >>"$RESULTS"; }   # mode phase key value
get() { awk -v m="$1" -v p="$2" -v k="$3" '$1 == m && $2 == p && $3 == k { print $4 }' "$RESULTS"; }

WHO_SEQ="dorafs floor floor-pages raw-pages raw-ufs"
WHO_FIO="dorafs floor floor-pages"
mnt_of() { case $1 in dorafs) echo "$MNT" ;; floor) echo "$FMNT" ;; floor-pages) echo "$PMNT" ;; esac; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load before: $LOAD_BEFORE  ($(nproc) CPUs; other work on the machine skews every figure)"
for mode in $MODES; do
	extra=()
	[ "$mode" = direct_io ] && extra=(--direct-io)
	log "mode $mode: mounting dorafs${DORAFS_OPTS:+ ($DORAFS_OPTS)} and fuse_floor"
	mount_dorafs "$mode"
	FLOOR_PID=$(start_floor "$FMNT" "$WORK/floor.log" "${extra[@]}")
	wait_mounted "$FMNT" "$WORK/floor.log" || die "fuse_floor did not mount"
	log "mode $mode: warming the page cache (first read through dorafs; after a restart it also verifies each page)"
	cmp "$UFS/$FILE" "$MNT/$FILE" || die "dorafs returned different bytes"
	cmp "$UFS/$FILE" "$FMNT/$FILE" || die "fuse_floor returned different bytes"
	# The page-file floor serves from the page files dorafs just wrote (1 MiB pages only).
	PFLOOR_PID=$(start_floor "$PMNT" "$WORK/floor-pages.log" "${extra[@]}" --page-dir="$CACHE")
	if wait_mounted "$PMNT" "$WORK/floor-pages.log" 2>/dev/null && cmp -s "$UFS/$FILE" "$PMNT/$FILE"; then
		who_seq=$WHO_SEQ who_fio=$WHO_FIO
	else
		log "mode $mode: no page-file floor (page size not 1 MiB?): $(head -c 300 "$WORK/floor-pages.log")"
		unmount "$PMNT" "$PFLOOR_PID"
		PFLOOR_PID=
		who_seq=${WHO_SEQ/floor-pages /} who_fio=${WHO_FIO/ floor-pages/}
	fi
	npages=$(find "$CACHE" -type f -name '*-[0-9]*' | wc -l)
	log "mode $mode: $npages page files; read_ahead_kb dorafs $(cat /sys/class/bdi/"$(mountpoint -d "$MNT")"/read_ahead_kb)," \
		"floor $(cat /sys/class/bdi/"$(mountpoint -d "$FMNT")"/read_ahead_kb), cache disk" \
		"$(cat /sys/class/bdi/"$(mountpoint -d "$(df --output=target "$CACHE" | tail -n 1)")"/read_ahead_kb 2>/dev/null || echo ?);" \
		"pipe-max-size $(cat /proc/sys/fs/pipe-max-size)"

	for phase in $PHASES; do
		declare -A sq=()
		for rep in $(seq "$REPS"); do
			line=
			for who in $who_seq; do
				prepare "$phase"
				case $who in
				raw-pages) v=$(pages_mbs) ;;
				raw-ufs) v=$(dd_mbs "$UFS/$FILE") ;;
				*) v=$(dd_mbs "$(mnt_of "$who")/$FILE") ;;
				esac
				sq[$who]+="$v "
				line+=" $who $v"
			done
			log "mode $mode, $phase: seq rep $rep MB/s:$line"
		done
		for who in $who_seq; do
			record "$mode $phase seq_$who $(tr ' ' '\n' <<<"${sq[$who]}" | grep . | median)"
		done
		unset sq

		for jobs in $FIO_JOBS; do
			declare -A fv=()
			for rep in $(seq "$FIO_REPS"); do
				for who in $who_fio; do
					prepare "$phase"
					out=$(fio_rand "$(mnt_of "$who")/$FILE" "$jobs")
					read -r iops p50 <<<"$out"
					log "mode $mode, $phase: fio randread 4k ${jobs} job(s) $who: $iops IOPS, clat p50 $p50 us"
					fv[$who]+="$iops "
				done
			done
			for who in $who_fio; do
				record "$mode $phase rand${jobs}_$who $(tr ' ' '\n' <<<"${fv[$who]}" | grep . | median)"
			done
			unset fv
		done
	done

	log "mode $mode: dorafs stat, then unmounting"
	"$DORAFS" stat "$MNT" 2>&1 | sed 's/^/     /' >&2 || true
	unmount_all
done
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- report ------------------------------------------------------------------------
echo
echo "dorafs local read benchmark: ${SIZE_MB} MiB file, dorafs page cache warm${DORAFS_OPTS:+, dorafs -o $DORAFS_OPTS}"
echo "tree at $REV, dorafs binary built $DORAFS_BUILT; load average before/after: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cold = kernel page cache dropped before every run; hot = backing files in the kernel page cache"
echo "MB/s = 10^6 bytes/s (dd bs=1M); medians of $REPS runs; fio: psync 4 KiB randread, ${FIO_RUNTIME} s, median of $FIO_REPS run(s)"
echo "floor = fuse_floor over the UFS file; floor-pages = fuse_floor over dorafs's page files; raw = page files read directly (page_read)"
echo
fmt='%-9s %-5s %-20s %9s %9s %11s %9s %9s %8s %8s %8s\n'
printf "$fmt" mode phase test dorafs floor floor-pages raw-pages raw-ufs /floor /raw /fl-pages
for mode in $MODES; do
	for phase in $PHASES; do
		d=$(get "$mode" "$phase" seq_dorafs) f=$(get "$mode" "$phase" seq_floor) fp=$(get "$mode" "$phase" seq_floor-pages)
		p=$(get "$mode" "$phase" seq_raw-pages) u=$(get "$mode" "$phase" seq_raw-ufs)
		printf "$fmt" "$mode" "$phase" "seq 1MiB MB/s" "$d" "$f" "${fp:--}" "$p" "$u" \
			"$(ratio "$d" "$f")" "$(ratio "$d" "$p")" "$(ratio "$d" "$fp")"
		for jobs in $FIO_JOBS; do
			d=$(get "$mode" "$phase" "rand${jobs}_dorafs") f=$(get "$mode" "$phase" "rand${jobs}_floor")
			fp=$(get "$mode" "$phase" "rand${jobs}_floor-pages")
			printf "$fmt" "$mode" "$phase" "rand4k ${jobs}job IOPS" "$d" "$f" "${fp:--}" - - \
				"$(ratio "$d" "$f")" - "$(ratio "$d" "$fp")"
		done
	done
done
echo
echo "targets (issue): sequential >= 0.9x floor and >= 0.6x raw; random 4 KiB >= 0.8x floor"
for mode in $MODES; do
	for phase in $PHASES; do
		d=$(get "$mode" "$phase" seq_dorafs)
		r=$(ratio "$d" "$(get "$mode" "$phase" seq_floor)")
		line="seq/floor $r $(verdict "$r" 0.9)"
		r=$(ratio "$d" "$(get "$mode" "$phase" seq_raw-pages)")
		line+=", seq/raw $r $(verdict "$r" 0.6)"
		for jobs in $FIO_JOBS; do
			r=$(ratio "$(get "$mode" "$phase" "rand${jobs}_dorafs")" "$(get "$mode" "$phase" "rand${jobs}_floor")")
			line+=", rand ${jobs}job/floor $r $(verdict "$r" 0.8)"
		done
		printf '  %-9s %-5s %s\n' "$mode" "$phase" "$line"
	done
done
echo "raw results: $RESULTS (removed with the work folder unless BENCH_DIR or KEEP=1)"
exit 0
