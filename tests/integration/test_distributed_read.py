"""The whole read path of a mount: page cache -> the Alluxio worker that owns
the path (consistent hashing over an etcd membership) -> the UFS when the
worker fails. Three test workers register in a real etcd; dorafs mounts the
same folder they serve. Counters, not timing, tell who served what."""
import json
import os
import sys
import time
import uuid

from dorafs_testlib import DORAFS, MiB, Mount, MountTestCase, main, read_file, run, write_random

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "servers", "worker"))
from worker_harness import TestWorker  # noqa: E402
from etcd_testlib import Etcd  # noqa: E402


class DistributedReadTest(MountTestCase):
    def setUp(self):
        super().setUp()
        self.etcd = Etcd().__enter__()
        self.addCleanup(self.etcd.__exit__, None, None, None)
        self.workers = []
        for i in range(3):
            # Fixed identities: which worker owns which file is the same every run.
            ident = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"worker{i}.dorafs.test"))
            w = TestWorker(self.ufs, uri_root=self.ufs, workdir=os.path.join(self.tmp, f"worker{i}"),
                           extra=["--etcd", self.etcd.url, "--identity", ident, "--lease-ttl", "3"])
            w.start()
            self.addCleanup(w.stop)
            self.workers.append(w)
        self.files = {}
        for i in range(12):
            name = f"shard-{i:02d}.bin"
            write_random(os.path.join(self.ufs, name), 2 * MiB + i, seed=i)
            self.files[name] = read_file(os.path.join(self.ufs, name))
        self.opts = f"membership=ETCD,etcd_endpoints={self.etcd.url}"

    def owner(self, name):
        """The worker `dorafs locate` names for a file, as a TestWorker."""
        r = run(DORAFS, "locate", "-o", self.opts, "--root", self.ufs, "--json", "/" + name)
        picks = json.loads(r.stdout)
        first = picks[0]["workers"][0] if isinstance(picks, list) else picks["results"][0]["workers"][0]
        port = first.get("rpc_port") or first.get("WorkerNetAddress", {}).get("RpcPort")
        return next(w for w in self.workers if w.port == port)

    def test_reads_go_to_the_owning_worker_then_the_page_cache(self):
        cache_opts = f"{self.opts},local_data_cache={self.cache}"
        with Mount(self.ufs, self.mnt, cache_opts) as m:
            for name, want in self.files.items():
                self.assertEqual(read_file(os.path.join(self.mnt, name)), want, name)
            s = m.stats()
            self.assertEqual(s["worker_fallback"]["fallbacks"], 0)
            self.assertEqual(s["worker_fallback"]["bytes_from_ufs"], 0)
            self.assertEqual(s["ufs"]["bytes"], 0, "dorafs read the UFS itself although workers were up")
            self.assertEqual(s["worker_fallback"]["bytes_from_workers"], sum(map(len, self.files.values())))
            self.assertEqual(len(s["membership"]["workers"]), 3)
            # Each worker served exactly the files the policy gives it.
            want_bytes = {w.port: 0 for w in self.workers}
            for name, data in self.files.items():
                want_bytes[self.owner(name).port] += len(data)
            for w in self.workers:
                self.assertEqual(w.stats()["bytes_sent"], want_bytes[w.port], f"worker {w.port}")
            # Second epoch: the local page cache answers, the workers see nothing new.
            sent = [w.stats()["bytes_sent"] for w in self.workers]
            for name, want in self.files.items():
                self.assertEqual(read_file(os.path.join(self.mnt, name)), want, name)
            self.assertEqual([w.stats()["bytes_sent"] for w in self.workers], sent)

    def test_another_node_reads_from_the_workers_cache(self):
        with Mount(self.ufs, self.mnt, self.opts):
            for name in self.files:
                read_file(os.path.join(self.mnt, name))
        before = [w.stats() for w in self.workers]
        with Mount(self.ufs, self.mnt, self.opts) as m:   # a fresh client, nothing cached locally
            for name, want in self.files.items():
                self.assertEqual(read_file(os.path.join(self.mnt, name)), want, name)
            self.assertEqual(m.stats()["ufs"]["bytes"], 0)
        after = [w.stats() for w in self.workers]
        self.assertEqual(sum(a["pages_from_ufs"] - b["pages_from_ufs"] for a, b in zip(after, before)), 0,
                         "workers went back to the UFS for pages they had cached")
        self.assertGreater(sum(a["pages_from_cache"] - b["pages_from_cache"] for a, b in zip(after, before)), 0)

    def test_dead_worker_falls_back_to_the_ufs(self):
        victim = self.workers[0]
        victim.stop(sig=9)   # its etcd entry lingers until the lease expires: the ring still names it
        with Mount(self.ufs, self.mnt, self.opts + ",worker_rpc_timeout=2s,worker_stream_timeout=2s") as m:
            for name, want in self.files.items():
                self.assertEqual(read_file(os.path.join(self.mnt, name)), want, name)
            s = m.stats()
            owned_by_victim = [n for n in self.files if self.owner(n) is victim]
            self.assertTrue(owned_by_victim, "the fixed identities should give the victim some files")
            self.assertGreater(s["worker_fallback"]["fallbacks"], 0)
            self.assertEqual(s["ufs"]["bytes"], sum(len(self.files[n]) for n in owned_by_victim))
            self.assertLess(s["ufs"]["bytes"], sum(map(len, self.files.values())),
                            "the live workers should still serve their files")

    def test_etcd_down_keeps_the_last_known_workers(self):
        with Mount(self.ufs, self.mnt, self.opts) as m:
            self.etcd.stop()
            r = run(DORAFS, "workers", "-o", self.opts, check=False)
            self.assertEqual(r.returncode, 1)
            self.assertIn(self.etcd.url, r.stderr)
            for _ in range(100):   # the mount notices on its next watch/refresh
                if m.stats()["membership"]["status"] == "stale":
                    break
                time.sleep(0.1)
            self.assertEqual(m.stats()["membership"]["status"], "stale")
            r = run(DORAFS, "workers", "--mount", self.mnt)
            self.assertIn("STALE", r.stdout)
            self.assertEqual(r.stdout.count(" live"), 3 + 1, r.stdout)  # 3 rows + the summary line
            j = json.loads(run(DORAFS, "workers", "--mount", self.mnt, "--json").stdout)
            self.assertEqual(len(j["workers"]), 3)
            for name, want in self.files.items():
                self.assertEqual(read_file(os.path.join(self.mnt, name)), want, name)
            self.assertEqual(m.stats()["ufs"]["bytes"], 0, "workers must still serve while etcd is down")


if __name__ == "__main__":
    main()
