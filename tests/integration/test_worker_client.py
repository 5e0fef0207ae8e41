"""The worker client (product code, driven by dfs_worker_driver) against the
Alluxio-protocol test worker over real gRPC on loopback: authentication,
GetStatus, ListStatus batches, ReadBlock byte-exactness and flow control,
concurrency on one channel, a worker dying or hanging mid-stream, deadlines,
re-authentication after a worker restart, and the worker's page cache.
Every worker is stopped at the end, also when a test fails."""
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(
    os.environ.get("DORAFS_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", ".."),
    "tests", "servers", "worker"))
from worker_harness import MiB, TestWorker, driver, driver_args, fields  # noqa: E402


def write_random(path, size, seed):
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 8 * MiB)
            f.write(rnd.randbytes(n))
            left -= n


class WorkerClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="dfs-wtest-")
        cls.ufs = os.path.join(cls.tmp.name, "ufs")
        os.makedirs(os.path.join(cls.ufs, "dir", "sub"))
        open(os.path.join(cls.ufs, "empty"), "wb").close()
        with open(os.path.join(cls.ufs, "one"), "wb") as f:
            f.write(b"x")
        write_random(os.path.join(cls.ufs, "big"), 64 * MiB, 1)
        write_random(os.path.join(cls.ufs, "dir", "small"), 3 * MiB + 17, 2)
        many = os.path.join(cls.ufs, "many")
        os.makedirs(many)
        for i in range(25000):
            open(os.path.join(many, "f%05d" % i), "wb").close()
        cls.worker = TestWorker(cls.ufs, workdir=os.path.join(cls.tmp.name, "w0")).start()

    @classmethod
    def tearDownClass(cls):
        cls.worker.stop()
        cls.tmp.cleanup()

    def local(self, name):
        return os.path.join(self.ufs, name.lstrip("/"))

    def expect_ok(self, *args, opts=(), worker=None):
        rc, out = driver(worker or self.worker, *args, opts=opts)
        self.assertEqual(rc, 0, out)
        self.assertTrue(out[0].startswith("OK"), out)
        return out

    def expect_err(self, name, *args, opts=(), worker=None):
        rc, out = driver(worker or self.worker, *args, opts=opts)
        self.assertEqual(rc, 3, out)
        self.assertTrue(out[0].startswith("ERR " + name), out)
        return out

    # -- authentication ---------------------------------------------------

    def test_auth_success_one_handshake_per_channel(self):
        before = self.worker.stats()["auth_ok"]
        out = self.expect_ok("read", "/dir/small", self.local("dir/small"), "20", "3", opts=["--stats"])
        st = fields(out[-1])
        self.assertEqual(st["handshakes"], "1")
        self.assertEqual(st["unauthenticated"], "0")
        self.assertGreater(int(st["calls"]), 10)
        self.assertEqual(self.worker.stats()["auth_ok"], before + 1)

    def test_call_without_channel_id_is_unauthenticated(self):
        before = self.worker.stats()["unauthenticated_calls"]
        out = self.expect_err("EACCES", "stat", "/one", opts=["--no-auth"])
        self.assertIn("grpc=16", out[0])
        self.assertGreater(self.worker.stats()["unauthenticated_calls"], before)

    def test_handshake_rejected(self):
        with TestWorker(self.ufs, extra=["--auth-user", "alice"]) as w:
            out = self.expect_err("EACCES", "stat", "/one", opts=["--user", "bob"], worker=w)
            self.assertIn("grpc=16", out[0])
            self.expect_ok("stat", "/one", opts=["--user", "alice"], worker=w)
            self.assertEqual(w.stats()["auth_rejected"], 1)

    def test_nosasl_cluster(self):
        with TestWorker(self.ufs, extra=["--no-auth"]) as w:
            out = self.expect_ok("stat", "/one", opts=["--no-auth", "--stats"], worker=w)
            self.assertEqual(fields(out[-1])["handshakes"], "0")

    def test_reauthenticates_after_worker_restart(self):
        with TestWorker(self.ufs) as w:
            p = subprocess.Popen(driver_args(w, "stat2", "/one", opts=["--stats"]), stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
            try:
                self.assertEqual(p.stdout.readline().strip(), "READY")
                port = w.port
                w.stop(signal.SIGKILL)
                w.port = port
                w.start()          # same port, new process: our channel id is unknown there
                p.stdin.write("go\n")
                p.stdin.flush()
                out = p.communicate(timeout=30)[0].splitlines()
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            self.assertTrue(out[0].startswith("OK size=1"), out)
            self.assertEqual(fields(out[-1])["handshakes"], "2", out)

    def _twice(self, args, between):
        with TestWorker(self.ufs) as w:
            p = subprocess.Popen(driver_args(w, *args, opts=["--stats"]), stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
            try:
                lines = []
                while True:
                    line = p.stdout.readline()
                    self.assertTrue(line, lines)
                    lines.append(line)
                    if line.strip() == "READY":
                        break
                between(w)
                p.stdin.write("go\n")
                p.stdin.flush()
                out = p.communicate(timeout=60)[0].splitlines()
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            return out, w.stats()

    def test_reauthenticates_when_worker_forgets_channel(self):
        # The stream stays open but the worker no longer knows the id (as
        # Alluxio's stale-channel purge): calls get UNAUTHENTICATED, the
        # client authenticates again and retries, for unary calls and reads.
        def purge(w):
            w.send_signal(signal.SIGUSR1)
            time.sleep(0.5)
        for args in (["stat2", "/one"], ["read2", "/dir/small", self.local("dir/small")]):
            out, st = self._twice(args, purge)
            self.assertTrue(out[0].startswith("OK"), out)
            f = fields(out[-1])
            self.assertEqual(f["handshakes"], "2", out)
            self.assertEqual(f["unauthenticated"], "1", out)
            self.assertEqual(st["unauthenticated_calls"], 1)

    # -- metadata ----------------------------------------------------------

    def test_get_status_file_dir_missing(self):
        f = fields(self.expect_ok("stat", "/dir/small")[0])
        self.assertEqual(f["type"], "file")
        self.assertEqual(int(f["size"]), 3 * MiB + 17)
        self.assertEqual(f["path"], "s3://testbucket/data/dir/small")
        self.assertEqual(f["name"], "small")
        d = fields(self.expect_ok("stat", "/dir")[0])
        self.assertEqual(d["type"], "dir")
        out = self.expect_err("ENOENT", "stat", "/no/such/file")
        self.assertIn("grpc=5", out[0])
        self.assertIn("No such file", out[0])

    def test_exists(self):
        self.assertEqual(fields(self.expect_ok("exists", "/one")[0])["exists"], "1")
        self.assertEqual(fields(self.expect_ok("exists", "/nope")[0])["exists"], "0")

    def test_list_status_25000_in_batches(self):
        before = self.worker.stats()["list_batches"]
        f = fields(self.expect_ok("list", "/many")[0])
        self.assertEqual(int(f["count"]), 25000)
        self.assertEqual(int(f["batches"]), 3)      # 10,000 per batch, as Alluxio
        self.assertEqual(self.worker.stats()["list_batches"] - before, 3)
        self.assertEqual(int(fields(self.expect_ok("list", "/dir")[0])["count"]), 2)
        self.expect_err("ENOENT", "list", "/nope")

    # -- reads ---------------------------------------------------------------

    def test_read_0_1_and_64mib_byte_exact(self):
        self.expect_ok("read", "/empty", self.local("empty"), "5", "1")
        self.expect_ok("read", "/one", self.local("one"), "5", "2")
        st0 = self.worker.stats()
        self.expect_ok("read", "/big", self.local("big"), "60", "3")
        st1 = self.worker.stats()
        self.assertLessEqual(st1["max_unacked_bytes"], 4 * MiB)    # Alluxio's window
        self.assertGreater(st1["acks"], st0["acks"])
        # A second pass is served from the worker's page cache.
        self.expect_ok("read", "/big", self.local("big"), "20", "4")
        st2 = self.worker.stats()
        self.assertEqual(st2["pages_from_ufs"], st1["pages_from_ufs"])
        self.assertGreater(st2["pages_from_cache"], st1["pages_from_cache"])

    def test_many_concurrent_reads_on_one_channel(self):
        out = self.expect_ok("concurrent", "/big", self.local("big"), "16", "25", opts=["--stats"])
        self.assertEqual(fields(out[-1])["handshakes"], "1")

    def test_picker_source(self):
        # the many-worker form of the source (a picker handing out connections)
        out = self.expect_ok("concurrent", "/dir/small", self.local("dir/small"), "4", "10",
                             opts=["--picker", "--stats"])
        self.assertEqual(fields(out[-1])["handshakes"], "1")
        self.expect_ok("list", "/dir", opts=["--picker"])
        self.expect_err("ENOENT", "stat", "/nope", opts=["--picker"])

    def test_cache_data_then_hits(self):
        with TestWorker(self.ufs) as w:
            self.expect_ok("cachedata", "/dir/small", worker=w)
            st = w.stats()
            self.assertEqual(st["pages_from_ufs"], 4)     # 3 MiB + 17 B in 1 MiB pages
            self.expect_ok("read", "/dir/small", self.local("dir/small"), "10", "5", worker=w)
            self.assertEqual(w.stats()["pages_from_ufs"], 4)

    # -- failures ------------------------------------------------------------

    def _slowread_then(self, action, stream_timeout_ms):
        with TestWorker(self.ufs) as w:
            p = subprocess.Popen(driver_args(w, "slowread", "/big",
                                             opts=["--stream-timeout-ms", str(stream_timeout_ms)]),
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                self.assertEqual(p.stdout.readline().strip(), "STARTED")
                action(w)
                t0 = time.time()
                p.stdin.write("go\n")
                p.stdin.flush()
                out = p.communicate(timeout=60)[0].splitlines()
                return out, time.time() - t0
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()

    def test_worker_killed_mid_stream(self):
        out, took = self._slowread_then(lambda w: w.stop(signal.SIGKILL), 5000)
        self.assertTrue(out[0].startswith("ERR ETRYOTHER"), out)
        self.assertLess(took, 5.0)

    def test_worker_hung_mid_stream(self):
        out, took = self._slowread_then(lambda w: w.send_signal(signal.SIGSTOP), 1500)
        self.assertTrue(out[0].startswith("ERR ETRYOTHER"), out)
        # the wait for the next chunk is what timed out, not anything earlier
        self.assertGreaterEqual(float(fields(out[0])["elapsed_ms"]), 1400)
        self.assertLess(took, 10.0)

    def test_unary_deadline(self):
        with TestWorker(self.ufs, extra=["--delay-ms", "3000"]) as w:
            t0 = time.time()
            out = self.expect_err("ETRYOTHER", "stat", "/one", opts=["--timeout-ms", "500"], worker=w)
            self.assertIn("grpc=4", out[0])
            self.assertLess(time.time() - t0, 2.5)

    def test_no_worker(self):
        with TestWorker(self.ufs) as w:
            pass
        t0 = time.time()
        self.expect_err("ETRYOTHER", "stat", "/one", worker=w)
        self.assertLess(time.time() - t0, 5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
