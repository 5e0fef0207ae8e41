"""The test worker registers in etcd as an Alluxio worker does: the persistent
/DHT/<cluster>/AUTHORIZED/worker-<uuid> entry and the leased
/ServiceDiscovery/<cluster>/worker-<uuid> entry, whose RpcPort is where the
worker serves; a clean stop revokes the lease, a killed worker's entry
expires with it. etcd runs on free loopback ports and is always stopped."""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(
    os.environ.get("DORAFS_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", ".."),
    "tests", "servers", "worker"))
from worker_harness import TestWorker, driver  # noqa: E402

IDENTITY = "0f8fad5b-d9cb-469f-a165-70867728950e"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64(s):
    return base64.b64encode(s.encode()).decode()


@unittest.skipIf(shutil.which("etcd") is None, "etcd is not installed")
class WorkerEtcdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="dfs-wetcd-")
        cport, pport = free_port(), free_port()
        cls.url = "http://127.0.0.1:%d" % cport
        peer = "http://127.0.0.1:%d" % pport
        cls.etcd = subprocess.Popen(
            ["etcd", "--name", "t", "--data-dir", os.path.join(cls.tmp.name, "etcd"),
             "--listen-client-urls", cls.url, "--advertise-client-urls", cls.url,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             "--initial-cluster", "t=" + peer],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 15
        while True:
            try:
                urllib.request.urlopen(cls.url + "/health", timeout=1).read()
                break
            except OSError:
                if time.time() > deadline or cls.etcd.poll() is not None:
                    cls.tearDownClass()
                    raise RuntimeError("etcd did not start")
                time.sleep(0.1)
        cls.ufs = os.path.join(cls.tmp.name, "ufs")
        os.makedirs(cls.ufs)
        with open(os.path.join(cls.ufs, "f"), "wb") as f:
            f.write(b"hello")

    @classmethod
    def tearDownClass(cls):
        if cls.etcd.poll() is None:
            cls.etcd.terminate()
            try:
                cls.etcd.wait(10)
            except subprocess.TimeoutExpired:
                cls.etcd.kill()
                cls.etcd.wait()
        cls.tmp.cleanup()

    def get(self, key):
        req = urllib.request.Request(self.url + "/v3/kv/range", data=json.dumps({"key": b64(key)}).encode(),
                                     method="POST")
        out = json.loads(urllib.request.urlopen(req, timeout=5).read())
        kvs = out.get("kvs", [])
        return json.loads(base64.b64decode(kvs[0]["value"])) if kvs else None

    def test_register_serve_and_leave(self):
        live = "/ServiceDiscovery/testcluster/worker-" + IDENTITY
        ring = "/DHT/testcluster/AUTHORIZED/worker-" + IDENTITY
        w = TestWorker(self.ufs, extra=["--etcd", self.url, "--identity", IDENTITY,
                                        "--cluster", "testcluster", "--lease-ttl", "2"])
        with w:
            e = self.get(live)
            self.assertIsNotNone(e)
            self.assertEqual(e["Identity"], {"version": 1, "identifier": IDENTITY.replace("-", "")})
            self.assertEqual(e["WorkerNetAddress"]["Host"], "127.0.0.1")
            self.assertEqual(e["WorkerNetAddress"]["RpcPort"], w.port)
            self.assertEqual(e["ServiceEntityName"], "worker-" + IDENTITY)
            self.assertEqual(self.get(ring), e)
            # the advertised port is the one that serves
            rc, out = driver(w, "stat", "/f")
            self.assertEqual(rc, 0, out)
        self.assertIsNone(self.get(live))          # lease revoked on a clean stop
        self.assertIsNotNone(self.get(ring))       # the ring entry stays, as in Alluxio

    def test_killed_worker_expires(self):
        ident = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
        live = "/ServiceDiscovery/DefaultAlluxioCluster/worker-" + ident
        with TestWorker(self.ufs, extra=["--etcd", self.url, "--identity", ident, "--lease-ttl", "2"]) as w:
            self.assertIsNotNone(self.get(live))
            w.stop(signal.SIGKILL)
            self.assertIsNotNone(self.get(live))   # still there: the lease runs
            deadline = time.time() + 10
            while self.get(live) is not None and time.time() < deadline:
                time.sleep(0.25)
            self.assertIsNone(self.get(live))


if __name__ == "__main__":
    unittest.main(verbosity=2)
