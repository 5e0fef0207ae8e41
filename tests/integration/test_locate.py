"""`dorafs locate` end to end: the workers it picks equal Alluxio's (alluxio-py's
published vectors and the Java-generated vectors of hashring/), through a
real etcd or a static workers file; adding a worker moves about 1/N of keys."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import etcd_testlib  # noqa: E402
from dorafs_testlib import DORAFS, SOURCE, sanitizer_reports  # noqa: E402

DATA = os.path.join(SOURCE, "tests", "unit", "data", "hashring")


def data_lines(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f if not l.startswith("#") and l.strip("\n")]


def locate(opts, keys, n=1, extra=()):
    r = subprocess.run([DORAFS, "locate", "--json", "-n", str(n), "-o", opts, *extra, "--", *keys],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError(f"locate failed ({r.returncode}): {r.stderr}")
    return json.loads(r.stdout)


def ids(entry):
    """version:identifier-hex, as the vector files write them."""
    return [f"1:{uuid.UUID(w['identity']).hex}" if w["identity_version"] == 1
            else f"0:{int(w['identity']) & (2**64 - 1):016x}" for w in entry["workers"]]



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

class LocateStatic(SanitizerChecked):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="dorafs-locate-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.workers = os.path.join(self.tmp, "workers")
        with open(self.workers, "w") as f:
            f.write("# alluxio-py tests/hash_res/workerHostnames.json\n\n")
            f.write("\n".join(data_lines("worker_hostnames.txt")) + "\n")

    def test_alluxio_py_vectors(self):
        """The 21 URLs of alluxio-py's fileUrlWorkers.json, 50 static workers, 5 each."""
        cases = [l.split("\t") for l in data_lines("url_workers.txt")]
        out = locate(f"membership=STATIC,workers_file={self.workers}", [c[0] for c in cases], n=5, extra=["--raw"])
        self.assertEqual(len(out), len(cases))
        for (url, want), got in zip(cases, out):
            self.assertEqual(got["uri"], url)
            self.assertEqual(ids(got), want.split(), url)

    def test_java_vectors_all_policies(self):
        """hashring's Java-generated vectors (py50 = the same 50 identities) for
        CONSISTENT, KETAMA and MULTI_PROBE with default and other parameters,
        so the policy options reach the ring.  (JUMP depends on list order,
        which a workers file fixes by Java's HashSet: see the etcd test.)"""
        groups = {}
        for line in data_lines("java_vectors.txt"):
            head, key, want = line.split("\t")
            policy, wset, param, count = head.split()
            if wset != "py50" or policy == "JUMP":
                continue
            groups.setdefault((policy, param, count), []).append((key, want.split()))
        self.assertEqual(len(groups), 6)
        opt = {"CONSISTENT": "hash_virtual_nodes", "KETAMA": "ketama_replicas", "MULTI_PROBE": "multi_probe_probes"}
        for (policy, param, count), cases in groups.items():
            out = locate(f"membership=STATIC,workers_file={self.workers},worker_selection_policy={policy},"
                         f"{opt[policy]}={param}", [k for k, _ in cases], n=int(count), extra=["--raw"])
            for (key, want), got in zip(cases, out):
                self.assertEqual(ids(got), want, f"{policy} {param} {key!r}")

    def test_normalised_uri_and_errors(self):
        opts = f"membership=STATIC,workers_file={self.workers}"
        out = locate(opts, ["s3://bucket/a//b/./c/../d/", "hdfs://nn:8020/x/y"])
        self.assertEqual([o["uri"] for o in out], ["s3://bucket/a/b/d", "hdfs://nn:8020/x/y"])
        out = locate(opts, ["x//y", "/z/"], extra=["--root", "s3://bucket/pre/"])
        self.assertEqual([o["uri"] for o in out], ["s3://bucket/pre/x/y", "s3://bucket/pre/z"])
        r = subprocess.run([DORAFS, "locate", "-n", "0", "-o", opts, "s3://b/k"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("'0'", r.stderr)
        r = subprocess.run([DORAFS, "locate", "-o", opts, "ftp://x/y"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("ftp", r.stderr)
        r = subprocess.run([DORAFS, "locate", "-o", opts + ",worker_selection_policy=MAGLEV", "s3://b/k"],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("MAGLEV", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)
        r = subprocess.run([DORAFS, "locate", "s3://b/k"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("membership", r.stderr)
        # The text form names the URI and the worker.
        r = subprocess.run([DORAFS, "locate", "-o", opts, "s3://b/k"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("s3://b/k\n  1. worker-"), r.stdout)


class LocateEtcd(SanitizerChecked):
    @classmethod
    def setUpClass(cls):
        cls.etcd = etcd_testlib.Etcd().start()

    @classmethod
    def tearDownClass(cls):
        cls.etcd.close()

    def test_jump_uses_etcd_key_order_legacy_ids(self):
        """Version-0 (legacy long id) identities 1..8 registered as worker-1..8:
        etcd's key order is 1..8, the order the Java vectors use, so JUMP matches."""
        cluster = "legacy8"
        for i in range(1, 9):
            value = json.dumps({"Identity": {"version": 0, "identifier": f"{i:016x}"},
                                "WorkerNetAddress": {"Host": f"legacy{i}", "RpcPort": 29999},
                                "State": "AUTHORIZED", "GenerationNumber": -1,
                                "ServiceEntityName": f"worker-{i}"})
            self.etcd.put(f"/ServiceDiscovery/{cluster}/worker-{i}", value)
        groups = {}
        for line in data_lines("java_vectors.txt"):
            head, key, want = line.split("\t")
            policy, wset, param, count = head.split()
            if wset == "legacy8":
                groups.setdefault((policy, param, count), []).append((key, want.split()))
        opt = {"CONSISTENT": "hash_virtual_nodes", "KETAMA": "ketama_replicas",
               "MULTI_PROBE": "multi_probe_probes", "JUMP": None}
        for (policy, param, count), cases in groups.items():
            o = f"membership=ETCD,etcd_endpoints={self.etcd.url},cluster_name={cluster},worker_selection_policy={policy}"
            if opt[policy]:
                o += f",{opt[policy]}={param}"
            out = locate(o, [k for k, _ in cases], n=int(count), extra=["--raw"])
            for (key, want), got in zip(cases, out):
                self.assertEqual(ids(got), want, f"{policy} {param} {key!r}")

    def test_new_worker_moves_about_one_nth(self):
        cluster = "grow"
        for i in range(10):
            self.etcd.add_worker(f"h{i}", cluster=cluster)
        keys = [f"s3://bucket/data/part-{i:05d}.parquet" for i in range(2000)]
        opts = f"membership=ETCD,etcd_endpoints={self.etcd.url},cluster_name={cluster}"
        before = [o["workers"][0]["host"] for o in locate(opts, keys)]
        self.etcd.add_worker("h-new", cluster=cluster)
        after = [o["workers"][0]["host"] for o in locate(opts, keys)]
        moved = [(a, b) for a, b in zip(before, after) if a != b]
        frac = len(moved) / len(keys)
        # 1/11 expected; CONSISTENT with 5 virtual nodes is coarse, so allow a wide band.
        self.assertGreater(frac, 0.02, frac)
        self.assertLess(frac, 0.25, frac)
        self.assertTrue(all(b == "h-new" for _, b in moved), "keys moved between old workers")
        self.assertEqual(len(set(before)), 10)


if __name__ == "__main__":
    unittest.main(verbosity=2)
