"""Worker membership against a real etcd (started here on 127.0.0.1 with a
temp data dir) and static workers files, through `dorafs workers`:
Alluxio-format entries listed, lease expiry, joins seen within about a
second, etcd stopped -> last known list kept, malformed entries skipped,
static files with comments, etcd auth, clear errors for bad endpoints."""
import hashlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import etcd_testlib  # noqa: E402
from dorafs_testlib import BUILD, DORAFS, sanitizer_reports  # noqa: E402

TEST_WORKER = os.path.join(BUILD, "tests", "servers", "worker", "dfs_test_worker")


def workers(opts, check=True):
    r = subprocess.run([DORAFS, "workers", "--json", "-o", opts], capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError(f"dorafs workers failed ({r.returncode}): {r.stderr}")
    return (json.loads(r.stdout) if r.returncode == 0 else None), r



class SanitizerChecked(unittest.TestCase):
    """Under DORAFS_SANITIZE=1, dorafs writes ASan/UBSan reports to files: any fails the test."""

    def setUp(self):
        # Registered first, so it runs after every other cleanup (e.g. after
        # a --follow process has exited and written its leak report).
        self.addCleanup(self._check_sanitizer)

    def _check_sanitizer(self):
        reports = sanitizer_reports()
        if reports:
            self.fail("sanitizer reports from dorafs:\n" + reports)

class Follower:
    """`dorafs workers --json --follow`: one JSON object per change."""

    def __init__(self, opts):
        self.proc = subprocess.Popen([DORAFS, "workers", "--json", "--follow", "-o", opts],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.q = queue.Queue()
        self.last = None
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.q.put(json.loads(line))
        self.q.put(None)

    def _read_err(self):
        for line in self.proc.stderr:
            self.stderr.append(line)

    def wait(self, pred, timeout, what):
        """The first state (seen since the last wait) that satisfies pred."""
        deadline = time.time() + timeout
        if self.last is not None and pred(self.last):
            return self.last
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}; last state: {json.dumps(self.last)}")
            try:
                s = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if s is None:
                raise AssertionError(f"dorafs workers --follow exited: {''.join(self.stderr)}")
            self.last = s
            if pred(s):
                return s

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pipe in (self.proc.stdout, self.proc.stderr):
            try:
                pipe.close()
            except (OSError, ValueError):
                pass   # the reader thread may be mid-read
        return self.proc.returncode


def hosts(state, live=True):
    return sorted(w["host"] for w in state["workers"] if w["live"] == live)


class EtcdMembership(SanitizerChecked):
    def setUp(self):
        super().setUp()
        self.etcd = etcd_testlib.Etcd().start()
        self.addCleanup(self.etcd.close)
        self.cluster = "c" + uuid.uuid4().hex[:8]
        self.opts = f"membership=ETCD,etcd_endpoints={self.etcd.url},cluster_name={self.cluster}"

    def follow(self, opts=None):
        f = Follower(opts or self.opts)
        self.addCleanup(f.close)
        return f

    def test_lists_alluxio_entries(self):
        a, _ = self.etcd.add_worker("w-a.example", cluster=self.cluster, rpc=1111)
        b, _ = self.etcd.add_worker("w-b.example", cluster=self.cluster, rpc=2222)
        # Another cluster's workers are not ours, nor is a cluster whose name
        # merely starts with ours.
        self.etcd.add_worker("other", cluster="DefaultAlluxioCluster")
        self.etcd.add_worker("prefix-twin", cluster=self.cluster + "x")
        st, r = workers(self.opts)
        self.assertEqual(st["status"], "ok")
        self.assertEqual(st["membership"], "ETCD")
        self.assertIn(self.etcd.url, st["source"])
        self.assertEqual(hosts(st), ["w-a.example", "w-b.example"])
        by_host = {w["host"]: w for w in st["workers"]}
        self.assertEqual(by_host["w-a.example"]["identity"], a)
        self.assertEqual(by_host["w-a.example"]["name"], f"worker-{a}")
        self.assertEqual(by_host["w-a.example"]["rpc_port"], 1111)
        self.assertEqual(by_host["w-b.example"]["rpc_port"], 2222)
        w = by_host["w-b.example"]
        self.assertEqual((w["data_port"], w["netty_data_port"], w["web_port"], w["http_port"], w["state"]),
                         (29997, 29997, 30000, 28080, "AUTHORIZED"))
        # etcd key order (the ring order JUMP uses).
        self.assertEqual([w["identity"] for w in st["workers"]], sorted([a, b]))
        r = subprocess.run([DORAFS, "workers", "-o", self.opts], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(a, r.stdout)
        self.assertIn("2 live, 0 lost", r.stdout)

    def test_malformed_entries_skipped(self):
        good, _ = self.etcd.add_worker("good", cluster=self.cluster)
        bad = {
            "notjson": "{not json",
            "shortid": json.dumps({"Identity": {"version": 1, "identifier": "abcd"},
                                   "WorkerNetAddress": {"Host": "x"}}),
            "noidentity": json.dumps({"WorkerNetAddress": {"Host": "x"}}),
            "badport": json.dumps({"Identity": {"version": 1, "identifier": uuid.uuid4().hex},
                                   "WorkerNetAddress": {"Host": "x", "RpcPort": "many"}}),
            "trailing": etcd_testlib.worker_json("y", str(uuid.uuid4())) + " junk",
        }
        for name, value in bad.items():
            self.etcd.put(f"/ServiceDiscovery/{self.cluster}/worker-{name}", value)
        st, r = workers(self.opts)
        self.assertEqual([w["identity"] for w in st["workers"]], [good])
        for name in bad:
            self.assertIn(f"worker-{name}", r.stderr)

    def test_expiry_join_and_etcd_outage(self):
        _, lease_a = self.etcd.add_worker("a", cluster=self.cluster, ttl=2)
        self.etcd.add_worker("b", cluster=self.cluster, ttl=600)
        self.etcd.add_worker("c", cluster=self.cluster, ttl=600)
        f = self.follow()
        f.wait(lambda s: hosts(s) == ["a", "b", "c"], 10, "three live workers")

        # A worker whose lease expires leaves the ring; it stays listed as lost
        # (registered under /DHT/<cluster>/AUTHORIZED/).
        t0 = time.time()
        st = f.wait(lambda s: hosts(s) == ["b", "c"], 20, "worker a to expire")
        self.assertEqual(hosts(st, live=False), ["a"])
        self.assertLess(time.time() - t0, 15)

        # A new worker is seen within about a second (watch).
        t0 = time.time()
        self.etcd.add_worker("d", cluster=self.cluster, ttl=600)
        f.wait(lambda s: hosts(s) == ["b", "c", "d"], 5, "worker d to join")
        self.assertLess(time.time() - t0, 2.0)

        # etcd stopped: the last known list stays, marked stale.
        self.etcd.stop()
        st = f.wait(lambda s: s["status"] == "stale", 10, "stale status")
        self.assertEqual(hosts(st), ["b", "c", "d"])
        self.assertIn(self.etcd.url, st["error"])
        time.sleep(2.5)
        self.assertEqual(hosts(f.last), ["b", "c", "d"])
        self.assertTrue(any("keeping the last known 3 worker(s)" in l for l in f.stderr), f.stderr)

        # Back again: fresh again, and changes flow again.
        self.etcd.start()
        f.wait(lambda s: s["status"] == "ok", 10, "status ok after restart")
        self.etcd.add_worker("e", cluster=self.cluster, ttl=600)
        f.wait(lambda s: hosts(s) == ["b", "c", "d", "e"], 5, "worker e after restart")
        self.assertEqual(f.close(), 0)

    @unittest.skipUnless(os.path.exists(TEST_WORKER), "dfs_test_worker not built")
    def test_real_worker_registration(self):
        """The test worker registers through etcd_register_worker (lease +
        keep-alive); dorafs sees it, routes to it, and sees it die."""
        ident = str(uuid.uuid4())
        ufs = tempfile.mkdtemp(prefix="dorafs-ufs-")
        self.addCleanup(shutil.rmtree, ufs, ignore_errors=True)
        w = subprocess.Popen([TEST_WORKER, "--ufs", ufs, "--no-cache", "--no-auth", "--etcd", self.etcd.url,
                              "--cluster", self.cluster, "--lease-ttl", "2", "--identity", ident],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

        def kill():
            if w.poll() is None:
                w.kill()
                w.wait()
            w.stdout.close()
        self.addCleanup(kill)
        port = int(w.stdout.readline().split()[1])
        f = self.follow()
        st = f.wait(lambda s: hosts(s) == ["127.0.0.1"], 10, "the test worker")
        self.assertEqual(st["workers"][0]["identity"], ident)
        self.assertEqual(st["workers"][0]["rpc_port"], port)
        r = subprocess.run([DORAFS, "locate", "--json", "-o", self.opts, "s3://b/k"], capture_output=True, text=True)
        self.assertEqual(json.loads(r.stdout)[0]["workers"][0]["rpc_port"], port, r.stderr)
        # Kept alive past its 2 s TTL, then killed: it expires.
        time.sleep(3)
        self.assertEqual(hosts(f.last), ["127.0.0.1"])
        w.kill()
        st = f.wait(lambda s: hosts(s) == [], 15, "the killed worker to expire")
        self.assertEqual(hosts(st, live=False), ["127.0.0.1"])

    def test_unreachable_and_bad_endpoints(self):
        r = subprocess.run([DORAFS, "workers", "-o", "membership=ETCD,etcd_endpoints=http://127.0.0.1:1"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("http://127.0.0.1:1", r.stderr)
        for bad in ("htp:/nope", "127.0.0.1:2379", "http://", "http://h:2379/some/path"):
            r = subprocess.run([DORAFS, "workers", "-o", f"membership=ETCD,etcd_endpoints={bad}"],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn(f"'{bad}'", r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        # A dead endpoint first, then the live one (';' in -o, ',' in a file).
        self.etcd.add_worker("only", cluster=self.cluster)
        st, _ = workers(f"membership=ETCD,etcd_endpoints=http://127.0.0.1:1;{self.etcd.url},"
                        f"cluster_name={self.cluster}")
        self.assertEqual(hosts(st), ["only"])
        conf = os.path.join(self.etcd.dir, "alluxio-site.properties")
        with open(conf, "w") as f:
            f.write(f"alluxio.worker.membership.manager.type=ETCD\n"
                    f"alluxio.etcd.endpoints=http://127.0.0.1:1,{self.etcd.url}\n"
                    f"alluxio.cluster.name={self.cluster}\n")
        st, _ = workers(f"conf={conf}")
        self.assertEqual(hosts(st), ["only"])

    def test_auth(self):
        call = self.etcd.call
        call("/v3/auth/user/add", {"name": "root", "password": "rootpw"})
        call("/v3/auth/role/add", {"name": "root"})
        call("/v3/auth/user/grant", {"user": "root", "role": "root"})
        # Write the worker before auth is on (the helper has no token).
        self.etcd.add_worker("secured", cluster=self.cluster)
        call("/v3/auth/enable", {})
        st, _ = workers(self.opts + ",etcd_username=root,etcd_password=rootpw")
        self.assertEqual(hosts(st), ["secured"])
        _, r = workers(self.opts + ",etcd_username=root,etcd_password=wrong", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("root", r.stderr)
        _, r = workers(self.opts, check=False)
        self.assertEqual(r.returncode, 1)
        _, r = workers(self.opts + ",etcd_username=root", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("etcd_password", r.stderr)
        # A restart invalidates etcd's (simple) tokens: the watcher logs in again.
        f = self.follow(self.opts + ",etcd_username=root,etcd_password=rootpw")
        f.wait(lambda s: hosts(s) == ["secured"], 10, "the secured worker")
        self.etcd.stop()
        f.wait(lambda s: s["status"] == "stale", 10, "stale status")
        self.etcd.start()
        f.wait(lambda s: s["status"] == "ok", 10, "status ok after restart")
        self.etcd.login("root", "rootpw")
        self.etcd.add_worker("secured-2", cluster=self.cluster)
        f.wait(lambda s: hosts(s) == ["secured", "secured-2"], 5, "a worker added after the restart")


class StaticMembership(SanitizerChecked):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="dorafs-static-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.file = os.path.join(self.tmp, "workers")

    def write(self, text):
        with open(self.file, "w") as f:
            f.write(text)

    def test_comments_blank_lines_ports(self):
        self.write("# Alluxio workers\n\nw1.example\r\n  w2.example  \n\t# indented comment\nw1.example\n\n")
        st, _ = workers(f"membership=STATIC,workers_file={self.file},worker_rpc_port=1234,"
                        f"worker_data_port=1235,worker_web_port=1236,worker_http_port=1237")
        self.assertEqual(st["membership"], "STATIC")
        self.assertEqual(hosts(st), ["w1.example", "w2.example"])
        for w in st["workers"]:
            # UUID.nameUUIDFromBytes(host): MD5, version 3, no namespace.
            md5 = bytearray(hashlib.md5(w["host"].encode()).digest())
            md5[6] = (md5[6] & 0x0f) | 0x30
            md5[8] = (md5[8] & 0x3f) | 0x80
            self.assertEqual(w["identity"], str(uuid.UUID(bytes=bytes(md5))))
            self.assertEqual((w["rpc_port"], w["data_port"], w["netty_data_port"], w["web_port"], w["http_port"]),
                             (1234, 1235, 1235, 1236, 1237))
            self.assertTrue(w["live"])

    def test_errors(self):
        r = subprocess.run([DORAFS, "workers", "-o", f"membership=STATIC,workers_file={self.file}"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn(self.file, r.stderr)
        self.write("w1\nw2 # main\n")
        r = subprocess.run([DORAFS, "workers", "-o", f"membership=STATIC,workers_file={self.file}"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("line 2", r.stderr)
        r = subprocess.run([DORAFS, "workers", "-o", "membership=STATIC"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("workers_file", r.stderr)
        r = subprocess.run([DORAFS, "workers", "-o", "membership=MASTER"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("'MASTER'", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
