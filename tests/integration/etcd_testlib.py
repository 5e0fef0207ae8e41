"""A real etcd-server for membership tests (127.0.0.1, free ports, temp data
dir, always killed and removed), and helpers that write Alluxio worker
entries the way an Alluxio 3.x worker does (lease + put of the entity JSON),
through etcd's HTTP/JSON gateway."""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
CLUSTER = "DefaultAlluxioCluster"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s).decode()


class Etcd:
    """`with Etcd() as e:` a single-member etcd on 127.0.0.1."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="dorafs-etcd-")
        self.port = free_port()
        self.peer = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        args = [ETCD, "--name", "t", "--data-dir", os.path.join(self.dir, "data"),
                "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
                "--listen-peer-urls", f"http://127.0.0.1:{self.peer}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer}",
                "--initial-cluster", f"t=http://127.0.0.1:{self.peer}"]
        self.log = open(os.path.join(self.dir, "etcd.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if json.load(r).get("health") == "true":
                        return self
            except (OSError, ValueError):
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("etcd did not start: " + open(os.path.join(self.dir, "etcd.log")).read()[-2000:])

    def stop(self):
        """Kills etcd (the data dir stays, so it can be started again)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()

    # ---- JSON gateway -------------------------------------------------------
    token = None   # set by login(): sent with every call

    def call(self, path, body):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = self.token
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), headers=headers)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def login(self, user, password):
        self.token = None
        self.token = self.call("/v3/auth/authenticate", {"name": user, "password": password})["token"]

    def put(self, key, value, lease=None):
        body = {"key": b64(key), "value": b64(value)}
        if lease:
            body["lease"] = str(lease)
        return self.call("/v3/kv/put", body)

    def delete(self, key):
        return self.call("/v3/kv/deleterange", {"key": b64(key)})

    def grant(self, ttl):
        return int(self.call("/v3/lease/grant", {"TTL": str(ttl)})["ID"])

    def keepalive(self, lease):
        return self.call("/v3/lease/keepalive", {"ID": str(lease)})

    def revoke(self, lease):
        return self.call("/v3/lease/revoke", {"ID": str(lease)})

    def keys(self, prefix):
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        r = self.call("/v3/kv/range", {"key": b64(prefix), "range_end": b64(end)})
        return [base64.b64decode(kv["key"]).decode() for kv in r.get("kvs", [])]

    # ---- Alluxio worker entries ---------------------------------------------
    def add_worker(self, host, ident=None, ttl=None, rpc=29999, cluster=CLUSTER, raw_value=None, registered=True):
        """Registers a worker as Alluxio's EtcdMembershipManager.join does; returns (uuid, lease)."""
        ident = ident or str(uuid.uuid4())
        value = raw_value if raw_value is not None else worker_json(host, ident, rpc=rpc)
        name = f"worker-{ident}"
        if registered:
            self.put(f"/DHT/{cluster}/AUTHORIZED/{name}", value)
        lease = self.grant(ttl) if ttl else None
        self.put(f"/ServiceDiscovery/{cluster}/{name}", value, lease)
        return ident, lease


def worker_json(host, ident, rpc=29999, data=29997, web=30000, http=28080):
    """Exactly the JSON an Alluxio 3.x worker writes (Gson, @Expose fields)."""
    u = uuid.UUID(ident)
    return json.dumps({
        "WorkerNetAddress": {"Host": host, "ContainerHost": "", "RpcPort": rpc, "DataPort": data,
                             "SecureRpcPort": 0, "NettyDataPort": data, "WebPort": web,
                             "DomainSocketPath": "", "HttpServerPort": http},
        "State": "AUTHORIZED", "GenerationNumber": -1,
        "Identity": {"version": 1, "identifier": u.hex},
        "ServiceEntityName": f"worker-{u}"}, separators=(",", ":"))
