"""S3 test helpers: a real s3rver (npm, tests/tools) on 127.0.0.1 with a temp
folder, object upload over keep-alive HTTP, and a bulk loader that writes
s3rver's own on-disk format (verified against s3rver 3.7.1's filesystem
store: KEY._S3rver_object, KEY._S3rver_object.md5, KEY._S3rver_metadata.json)."""
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

from dorafs_testlib import SOURCE

S3RVER = os.path.join(SOURCE, "tests", "tools", "node_modules", ".bin", "s3rver")
ACCESS_KEY = "S3RVER"   # the only key s3rver accepts (it never checks the secret)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def quote_key(key):
    return urllib.parse.quote(key, safe="/~")


class S3rver:
    """One s3rver process; stop() (or the context manager) always kills it."""

    def __init__(self, extra_args=()):
        self.extra_args = list(extra_args)
        self.dir = tempfile.mkdtemp(prefix="dorafs-s3rver-")
        self.port = free_port()
        self.proc = None
        self.log = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        if not os.path.exists(S3RVER):
            raise RuntimeError(f"{S3RVER} is missing: run scripts/setup.sh (it installs s3rver)")
        self.log = open(os.path.join(self.dir, "s3rver.log"), "wb")
        data = os.path.join(self.dir, "data")
        os.makedirs(data)
        # --openssl-legacy-provider: s3rver's continuation tokens use DES,
        # which Node 20 refuses otherwise (truncated listings answer 500).
        self.proc = subprocess.Popen(
            ["node", "--openssl-legacy-provider", S3RVER, "-d", data, "-a", "127.0.0.1",
             "-p", str(self.port), "--silent"] + self.extra_args,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.data = data
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                self.request("GET", "/")
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("s3rver did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.log:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def request(self, method, path, body=None, headers=None, conn=None):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return r.status, data, dict(r.getheaders())
        finally:
            if own:
                conn.close()

    def make_bucket(self, bucket):
        status, body, _ = self.request("PUT", f"/{bucket}")
        assert status == 200, (status, body)

    def put(self, bucket, key, data, conn=None):
        status, body, _ = self.request("PUT", f"/{bucket}/{quote_key(key)}", body=data, conn=conn)
        assert status == 200, (key, status, body)

    def put_many(self, bucket, items, threads=8):
        """items: list of (key, bytes); parallel PUTs over kept-alive connections."""
        items = list(items)
        errors = []

        def worker(part):
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                for key, data in part:
                    self.put(bucket, key, data, conn=conn)
            except Exception as e:  # noqa: BLE001 - reported by the caller
                errors.append(repr(e))
            finally:
                conn.close()
        ts = [threading.Thread(target=worker, args=(items[i::threads],)) for i in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert not errors, errors[:3]

    def put_fs(self, bucket, key, data):
        """Write an object straight into s3rver's folder (fast bulk set-up)."""
        parts = key.split("/")
        folder = os.path.join(self.data, bucket, *parts[:-1])
        os.makedirs(folder, exist_ok=True)
        base = os.path.join(folder, parts[-1])
        with open(base + "._S3rver_object", "wb") as f:
            f.write(data)
        with open(base + "._S3rver_object.md5", "w") as f:
            f.write(hashlib.md5(data).hexdigest())
        with open(base + "._S3rver_metadata.json", "w") as f:
            json.dump({"content-type": "binary/octet-stream"}, f)

    def delete(self, bucket, key):
        status, body, _ = self.request("DELETE", f"/{bucket}/{quote_key(key)}")
        assert status in (200, 204), (status, body)


def s3_opts(endpoint, cache=None, more=""):
    opts = f"s3.endpoint={endpoint}"
    if cache:
        opts += f",local_data_cache={cache},local_data_cache_size=2GB"
    return opts + ("," + more if more else "")
