"""Helpers shared by the dorafs integration tests: real FUSE mounts of the
built `dorafs`, always unmounted again, even when a test fails."""
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
import unittest

BUILD = os.environ.get("DORAFS_BUILD_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
SOURCE = os.environ.get("DORAFS_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
DORAFS = os.path.join(BUILD, "cli", "dorafs")
MiB = 1 << 20

# Under an ASan/UBSan build the mount daemons write their reports to files
# (their stderr is gone once they are in the background); every test checks
# that none appeared.
SANITIZE = os.environ.get("DORAFS_SANITIZE") == "1"
SANITIZER_LOGS = None
if SANITIZE:
    SANITIZER_LOGS = tempfile.mkdtemp(prefix="dorafs-sanitizer-")
    import atexit
    atexit.register(shutil.rmtree, SANITIZER_LOGS, True)
    os.environ["ASAN_OPTIONS"] = f"log_path={SANITIZER_LOGS}/asan:detect_leaks=1"
    os.environ["UBSAN_OPTIONS"] = f"log_path={SANITIZER_LOGS}/ubsan:print_stacktrace=1"


def sanitizer_reports():
    if not SANITIZER_LOGS:
        return ""
    out = []
    for name in sorted(os.listdir(SANITIZER_LOGS)):
        with open(os.path.join(SANITIZER_LOGS, name), errors="replace") as f:
            out.append(f"--- {name}\n{f.read()}")
        os.unlink(os.path.join(SANITIZER_LOGS, name))
    return "\n".join(out)


def run(*args, check=True, timeout=60, **kw):
    return subprocess.run(list(args), check=check, timeout=timeout, capture_output=True, text=True, **kw)


def is_mounted(path):
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def force_unmount(path):
    """Best-effort cleanup for a mount a test may have left behind."""
    for cmd in (["fusermount3", "-u", path], ["umount", "-l", path]):
        if not is_mounted(path):
            return
        subprocess.run(cmd, capture_output=True, timeout=30)


def write_random(path, size, seed=None):
    rnd = random.Random(seed if seed is not None else size)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 8 * MiB)
            f.write(rnd.randbytes(n))
            left -= n


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


class Mount:
    """`dorafs mount SRC MNT -o OPTS` in the background; unmounts on exit."""

    def __init__(self, src, mnt, opts=None, extra=()):
        self.src, self.mnt, self.opts, self.extra = src, mnt, opts, list(extra)

    def __enter__(self):
        args = [DORAFS, "mount", self.src, self.mnt] + self.extra
        if self.opts:
            args += ["-o", self.opts]
        r = run(*args, check=False)
        if r.returncode != 0:
            raise AssertionError(f"mount failed ({r.returncode}): {r.stderr.strip()}")
        assert is_mounted(self.mnt), "dorafs mount returned 0 but nothing is mounted"
        return self

    def stats(self):
        r = run(DORAFS, "stat", "--json", self.mnt)
        return json.loads(r.stdout)

    def unmount(self):
        if is_mounted(self.mnt):
            r = run(DORAFS, "unmount", self.mnt, check=False)
            if r.returncode != 0:
                force_unmount(self.mnt)
        # The daemon finishes closing its cache just after the unmount.
        for _ in range(100):
            if not daemon_running(self.mnt):
                break
            time.sleep(0.05)

    def __exit__(self, *exc):
        self.unmount()
        force_unmount(self.mnt)


def daemon_running(mnt):
    r = subprocess.run(["pgrep", "-f", f"dorafs mount .* {mnt}( |$)"], capture_output=True)
    return r.returncode == 0


class MountTestCase(unittest.TestCase):
    """Gives each test a scratch folder with ufs/, mnt/ and cache/."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dorafs-test-")
        self.ufs = os.path.join(self.tmp, "ufs")
        self.mnt = os.path.join(self.tmp, "mnt")
        self.cache = os.path.join(self.tmp, "cache")
        os.makedirs(self.ufs)
        os.makedirs(self.mnt)
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        force_unmount(self.mnt)
        for extra in getattr(self, "extra_mounts", []):
            force_unmount(extra)
        shutil.rmtree(self.tmp, ignore_errors=True)
        reports = sanitizer_reports()
        if reports:
            self.fail("sanitizer reports from dorafs:\n" + reports)

    def mount(self, opts=None, src=None, extra=()):
        return Mount(src or self.ufs, self.mnt, opts, extra)


def main():
    unittest.main(verbosity=2)
