"""A small HTTP proxy between dorafs and s3rver that injects faults.

Rules are matched in order against each request; a rule with count N fires
N times (None: forever). Actions:
  ("status", code, s3_code)  answer with an S3 <Error> body, never forward
  ("reset",)                 close the connection with a TCP RST
  ("stall", seconds)         send nothing for that long, then close
  ("truncate",)              forward, but cut the body in half and close
  ("trickle", seconds)       forward, but send the body a byte every that
                             many seconds (a server too slow to be a stall)
  ("body", bytes)            answer 200 with this body (canned listings)
  ("norange",)               forward without the Range header (a server that
                             answers every ranged GET with the whole object)
Requests are counted by kind (HEAD, GET, LIST, other) as seen here.
"""
import http.client
import socket
import socketserver
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler


class Rule:
    def __init__(self, action, method=None, path_contains=None, count=None):
        self.action, self.method, self.path_contains, self.count = action, method, path_contains, count

    def matches(self, method, path):
        if self.count is not None and self.count <= 0:
            return False
        if self.method and self.method != method:
            return False
        if self.path_contains and self.path_contains not in path:
            return False
        return True


def kind_of(method, path):
    if method == "HEAD":
        return "HEAD"
    if method == "GET" and "list-type=2" in path:
        return "LIST"
    return method


class FaultProxy:
    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.rules = []
        self.counts = {}
        self.seen = []          # (method, path, headers) of every request
        self.faults = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle_any(self):
                method, path = self.command, self.path
                with proxy.lock:
                    k = kind_of(method, path)
                    proxy.counts[k] = proxy.counts.get(k, 0) + 1
                    proxy.seen.append((method, path, dict(self.headers.items())))
                    rule = next((r for r in proxy.rules if r.matches(method, path)), None)
                    if rule:
                        if rule.count is not None:
                            rule.count -= 1
                        proxy.faults += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                action = rule.action if rule else ("forward",)
                if action[0] == "status":
                    payload = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{action[2]}</Code>'
                               f'<Message>injected</Message></Error>').encode()
                    self.send_response(action[1])
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if method != "HEAD":
                        self.wfile.write(payload)
                    return
                if action[0] == "body":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(action[1])))
                    self.end_headers()
                    self.wfile.write(action[1])
                    return
                if action[0] == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if action[0] == "stall":
                    time.sleep(action[1])
                    self.close_connection = True
                    return
                drop = ("host", "connection") + (("range",) if action[0] == "norange" else ())
                headers = {k: v for k, v in self.headers.items() if k.lower() not in drop}
                up = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=120)
                try:
                    up.request(method, path, body=body, headers=headers)
                    r = up.getresponse()
                    data = r.read()
                finally:
                    up.close()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length", "date", "server"):
                        self.send_header(k, v)
                # A HEAD has no body but the object's length.
                self.send_header("Content-Length", r.getheader("Content-Length", "0") if method == "HEAD"
                                 else str(len(data)))
                self.end_headers()
                if method == "HEAD":
                    return
                if action[0] == "truncate":
                    self.wfile.write(data[:len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if action[0] == "trickle":
                    self.close_connection = True
                    for i in range(len(data)):
                        try:
                            self.wfile.write(data[i:i + 1])
                            self.wfile.flush()
                        except OSError:
                            return  # dorafs hung up
                        time.sleep(action[1])
                    return
                self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = do_DELETE = do_POST = handle_any

        class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass  # dorafs hanging up (or an injected reset) is expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def add(self, action, method=None, path_contains=None, count=None):
        with self.lock:
            self.rules.append(Rule(action, method, path_contains, count))

    def clear(self):
        with self.lock:
            self.rules = []

    def count(self, kind):
        with self.lock:
            return self.counts.get(kind, 0)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
