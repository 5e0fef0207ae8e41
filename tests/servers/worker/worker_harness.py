"""Start and stop dfs_test_worker and run dfs_worker_driver, for the
integration tests of the worker client (tests/integration/test_worker*.py)
and the benchmark (bench/worker_bench.py). Python 3 stdlib only; loopback only.
"""
import os
import select
import signal
import subprocess
import tempfile
import time

BUILD = os.environ.get("DORAFS_BUILD_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "build")
WORKER = os.path.join(BUILD, "tests", "servers", "worker", "dfs_test_worker")
DRIVER = os.path.join(BUILD, "tests", "servers", "worker", "dfs_worker_driver")
MiB = 1 << 20


class TestWorker:
    """A dfs_test_worker serving `ufs` (a folder) as `uri_root`; stopped on exit."""

    def __init__(self, ufs, uri_root="s3://testbucket/data", extra=(), port=0, workdir=None):
        self.ufs, self.uri_root, self.extra, self.port = ufs, uri_root, list(extra), port
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dfs-worker-")
            workdir = self._tmp.name
        self.workdir = workdir
        self.cache_dir = os.path.join(workdir, "cache")
        self.stats_file = os.path.join(workdir, "stats")
        self.proc = None

    def start(self, timeout=10):
        os.makedirs(self.cache_dir, exist_ok=True)
        args = [WORKER, "--ufs", self.ufs, "--ufs-uri", self.uri_root, "--port", str(self.port),
                "--cache-dir", self.cache_dir, "--stats-file", self.stats_file] + self.extra
        self._err = open(os.path.join(self.workdir, "worker.stderr"), "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._err)
        deadline = time.time() + timeout
        line = b""
        while time.time() < deadline and not line.endswith(b"\n"):
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                ch = os.read(self.proc.stdout.fileno(), 1)
                if not ch:
                    break
                line += ch
        if not line.startswith(b"PORT "):
            self.stop()
            raise RuntimeError("test worker did not start: %r" % line)
        self.port = int(line.split()[1])
        return self

    @property
    def target(self):
        return "127.0.0.1:%d" % self.port

    def stats(self, settle=0.3):
        """The worker's counters (written every 100 ms)."""
        time.sleep(settle)
        out = {}
        with open(self.stats_file) as f:
            for line in f:
                k, v = line.split()
                out[k] = int(v)
        return out

    def send_signal(self, sig):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGCONT)
                self.proc.send_signal(sig)
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc.stdout.close()
        self._err.close()
        self.proc = None
        with open(os.path.join(self.workdir, "worker.stderr"), errors="replace") as f:
            check_sanitizers("dfs_test_worker", f.read())

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if self._tmp:
            self._tmp.cleanup()


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def check_sanitizers(what, text):
    """In a sanitizer build, any report fails the test that caused it."""
    for m in SANITIZER_MARKS:
        if m in text:
            raise AssertionError("%s: sanitizer report:\n%s" % (what, text[-4000:]))


def driver_args(worker, *args, opts=()):
    return [DRIVER, "--target", worker.target, "--root", worker.uri_root] + list(opts) + list(args)


def driver(worker, *args, opts=(), timeout=120):
    """Run one driver command; returns (exit code, its output lines)."""
    p = subprocess.run(driver_args(worker, *args, opts=opts), capture_output=True, text=True,
                       timeout=timeout)
    check_sanitizers("dfs_worker_driver", p.stderr)
    return p.returncode, p.stdout.splitlines()


def fields(line):
    """'OK a=1 b=x ...' -> {'a': '1', 'b': 'x'}"""
    return dict(w.split("=", 1) for w in line.split()[1:] if "=" in w)
