#!/usr/bin/env python3
"""The all-local dorafs demo: etcd, an S3 server (s3rver) and three Alluxio-
protocol test workers on 127.0.0.1, a generated dataset in a bucket, and two
dorafs mounts ("nodes") reading it:

  node A, epoch 1: bytes come from the workers, which read S3 (cold cluster)
  node A, epoch 2: bytes come from node A's local page cache
  node B, epoch 1: bytes come from the workers' caches; S3 is not read again

Every server and mount is stopped on exit, also on failure. Run through
scripts/demo.sh, which installs and builds first."""
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DORAFS_SOURCE_DIR", REPO)
os.environ.setdefault("DORAFS_BUILD_DIR", os.path.join(REPO, "build"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.join(REPO, "tests", "servers", "worker"))

from dorafs_testlib import DORAFS, force_unmount, is_mounted  # noqa: E402
from etcd_testlib import Etcd  # noqa: E402
from s3_testlib import S3rver  # noqa: E402
from worker_harness import TestWorker  # noqa: E402

MiB = 1 << 20
BUCKET, PREFIX = "datasets", "imagenet-mini"
ROOT = f"s3://{BUCKET}/{PREFIX}"
# s3rver accepts one access key and never checks the secret.
os.environ.update(AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER")


def say(msg):
    print(f"\n== {msg}", flush=True)


def dorafs(*args, check=True):
    r = subprocess.run([DORAFS, *args], capture_output=True, text=True, timeout=120)
    if check and r.returncode != 0:
        raise SystemExit(f"demo: dorafs {' '.join(args)} failed: {r.stderr.strip()}")
    return r


def dataset():
    """32 'shards' of 1-4 MiB, deterministic, with their MD5s."""
    rnd = random.Random(2026)
    files = {}
    for shard in range(4):
        for i in range(8):
            files[f"train/shard-{shard}/sample-{i}.bin"] = rnd.randbytes((1 + (i % 4)) * MiB + shard * 4096 + 17)
    files["labels.txt"] = b"".join(f"{k} {i % 1000}\n".encode() for i, k in enumerate(sorted(files)))
    return files


def read_epoch(mnt, files):
    t0 = time.time()
    total = 0
    for name, data in sorted(files.items()):
        with open(os.path.join(mnt, name), "rb") as f:
            got = f.read()
        if hashlib.md5(got).digest() != hashlib.md5(data).digest():
            raise SystemExit(f"demo: {name} read through {mnt} differs from what was uploaded")
        total += len(got)
    dt = time.time() - t0
    print(f"   read {len(files)} files, {total / MiB:.1f} MiB, all bytes match ({dt:.2f} s)")


def main():
    work = os.path.join(REPO, "demo")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    mounts, workers = [], []
    files = dataset()
    with Etcd() as etcd, S3rver() as s3:
        try:
            say(f"etcd at {etcd.url}, S3 server at {s3.endpoint}")
            s3.make_bucket(BUCKET)
            for name, data in files.items():
                s3.put(BUCKET, f"{PREFIX}/{name}", data)
            print(f"   uploaded {len(files)} objects to {ROOT}")

            for i in range(3):
                ident = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"worker{i}.demo.dorafs"))
                w = TestWorker(ROOT, uri_root=ROOT, workdir=os.path.join(work, f"worker{i}"),
                               extra=["-o", f"s3.endpoint={s3.endpoint}", "--etcd", etcd.url,
                                      "--identity", ident, "--lease-ttl", "5"])
                w.start()
                workers.append(w)
            opts = f"membership=ETCD,etcd_endpoints={etcd.url}"
            for _ in range(50):   # registration is asynchronous
                if '"live_workers":3' in dorafs("workers", "-o", opts, "--json").stdout.replace(" ", ""):
                    break
                time.sleep(0.1)
            say(f"dorafs workers -o {opts}")
            print(dorafs("workers", "-o", opts).stdout)

            say(f"dorafs locate: which worker owns a file (the same as Alluxio's clients pick)")
            print(dorafs("locate", "-o", opts, "-n", "2", f"{ROOT}/train/shard-0/sample-0.bin").stdout)

            nodes = {}
            for node in ("node-a", "node-b"):
                mnt, cache = os.path.join(work, node, "mnt"), os.path.join(work, node, "cache")
                os.makedirs(mnt)
                nodes[node] = mnt
                node_opts = (f"{opts},s3.endpoint={s3.endpoint},local_data_cache={cache},"
                             f"local_data_cache_size=1GB")
                if node == "node-a":
                    say(f"node A: dorafs mount {ROOT} {mnt} -o {node_opts}")
                dorafs("mount", ROOT, mnt, "-o", node_opts)
                mounts.append(mnt)

            a, b = nodes["node-a"], nodes["node-b"]
            say("node A, epoch 1 (cold: workers read S3)")
            read_epoch(a, files)
            print(dorafs("stat", a).stdout)
            say("node A, epoch 2 (warm: node A's page cache)")
            read_epoch(a, files)
            print(dorafs("stat", a).stdout)
            s3_before = sum(w.stats()["pages_from_ufs"] for w in workers)
            say("node B, epoch 1 (a new node: the workers' caches answer, S3 is not read again)")
            read_epoch(b, files)
            print(dorafs("stat", b).stdout)
            s3_after = sum(w.stats()["pages_from_ufs"] for w in workers)
            hits = sum(w.stats()["pages_from_cache"] for w in workers)
            print(f"   workers: {hits} pages served from their caches; pages read from S3 during node B's "
                  f"epoch: {s3_after - s3_before}")
            sa, sb = (json.loads(dorafs("stat", "--json", m).stdout) for m in (a, b))
            ok = (sa["page_cache"]["bytes_from_cache"] > 0 and sb["ufs"]["requests"]["get"] == 0
                  and sb["worker_fallback"]["bytes_from_ufs"] == 0 and s3_after == s3_before)
            say("dorafs unmount")
            for m in mounts:
                dorafs("unmount", m)
            mounts.clear()
            if not ok:
                raise SystemExit("demo: the caches did not serve what they should have (see the counters above)")
            print("\ndemo: OK")
        finally:
            for m in mounts:
                if is_mounted(m):
                    force_unmount(m)
            for w in workers:
                w.stop()


if __name__ == "__main__":
    main()
