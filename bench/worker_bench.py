#!/usr/bin/env python3
"""Benchmark of the worker client's data path (issue 4).

One run: a 1 GiB file (size: --mib) in a UFS folder, served by a warm
dfs_test_worker (every page already in its page cache, via CacheData), read
sequentially through the client's ReadBlock (dfs_worker_driver bench, 1 MiB
preads through the worker dfs_source), against a plain gRPC server stream of
the same bytes from the same cache (no acks, no Alluxio window); prints MB/s
and the ratio, a plain read of the file for scale, and unary GetStatus round
trips per second (one thread, one channel).

usage: bench/worker_bench.py [--build DIR] [--mib N] [--dir DIR] [--seconds S]
Needs the built dfs_test_worker and dfs_worker_driver (tests/servers/worker).
"""
import argparse
import os
import random
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "servers", "worker"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(here, "..", "build"))
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                    help="where the UFS folder and the worker cache go (default /dev/shm)")
    ap.add_argument("--seconds", type=float, default=3.0, help="GetStatus loop length")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=1 << 20, help="ReadBlock chunk size")
    a = ap.parse_args()
    os.environ["DORAFS_BUILD_DIR"] = os.path.abspath(a.build)
    import worker_harness as wh   # reads DORAFS_BUILD_DIR

    with tempfile.TemporaryDirectory(prefix="dfs-wbench-", dir=a.dir) as tmp:
        ufs = os.path.join(tmp, "ufs")
        os.makedirs(ufs)
        path = os.path.join(ufs, "file")
        rnd = random.Random(7)
        with open(path, "wb") as f:
            for _ in range(a.mib):
                f.write(rnd.randbytes(1 << 20))
        with wh.TestWorker(ufs, workdir=os.path.join(tmp, "w"),
                           extra=["--capacity", str((a.mib + 64) << 21)]) as w:
            t0 = time.time()
            rc, out = wh.driver(w, "cachedata", "/file", timeout=600)
            if rc != 0:
                sys.exit("warm-up failed: %s" % out)
            warm = time.time() - t0
            st = w.stats()
            print("warm-up (CacheData, %d MiB from the UFS): %.2f s, pages_from_ufs=%d"
                  % (a.mib, warm, st["pages_from_ufs"]))
            for i in range(a.runs):
                rc, out = wh.driver(w, "bench", "/file", path, str(a.seconds),
                                    opts=["--chunk", str(a.chunk)], timeout=600)
                if rc != 0:
                    sys.exit("bench failed: %s" % out)
                f = wh.fields(out[0])
                print("run %d: ReadBlock %s MB/s, plain gRPC stream %s MB/s, ratio %s; "
                      "file read %s MB/s; GetStatus %s/s"
                      % (i + 1, f["readblock_MBps"], f["rawstream_MBps"], f["ratio"], f["file_MBps"],
                         f["getstatus_per_s"]))
            st2 = w.stats()
            print("worker: pages_from_cache +%d, pages_from_ufs +%d, max_unacked_bytes=%d"
                  % (st2["pages_from_cache"] - st["pages_from_cache"],
                     st2["pages_from_ufs"] - st["pages_from_ufs"], st2["max_unacked_bytes"]))


if __name__ == "__main__":
    main()
