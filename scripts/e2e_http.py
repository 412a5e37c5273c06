#!/usr/bin/env python3
"""Scale-out end to end: two `opentrain-mcp --http` replicas behind nginx (round robin), a local
upstream API, several tenants calling concurrently; one replica is killed mid-run.

Checks: every tenant's every call is answered with its own data (the upstream saw that tenant's
token: isolation), the only failures the clients saw were connection-level ones on calls in flight
at the kill (each retried, fewer than the tenants), and the survivor answers everything after.

Everything binds 127.0.0.1. Needs nginx (Debian's package) and a built opentrain-mcp:
    python3 scripts/e2e_http.py [--bin target/debug/opentrain-mcp]
"""

import argparse
import http.client
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

TENANTS = 8
CALLS_PER_TENANT = 40
KILL_AFTER = TENANTS * CALLS_PER_TENANT // 3
AFTER_KILL = 30


def token_of(i):
    return f"ot_pat_e2e_tenant_{i}"


class Upstream(http.server.ThreadingHTTPServer):
    """The OpenTrain API's credits endpoint: answers with the tenant its bearer token names."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), UpstreamHandler)
        self.lock = threading.Lock()
        self.seen = []  # the bearer token of every request, in order

    def handle_error(self, request, client_address):
        # The killed replica's connections are reset: expected, and not the upstream's failure.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class UpstreamHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        with self.server.lock:
            self.server.seen.append(token)
        if self.path.split("?")[0] != "/api/public/v1/credits" or not token or "_tenant_" not in token:
            body, status = {"error": "unauthorized", "code": "UNAUTHORIZED"}, 401
        else:
            # A few ms of work, so calls are in flight when a replica dies.
            time.sleep(0.005)
            body, status = {"credits": {"balanceUsd": 1, "owner": "tenant-" + token.rsplit("_", 1)[1]}}, 200
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def start_replica(binary, upstream_url, home):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "OPENTRAIN_API_BASE_URL": upstream_url,
    }
    proc = subprocess.Popen(
        [binary, "--http", "127.0.0.1:0"], env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    for line in proc.stderr:
        if "serving MCP over HTTP at " in line:
            url = line.split("serving MCP over HTTP at ", 1)[1].strip()
            port = int(url.split(":")[2].split("/")[0])
            # Keep reading so the pipe never fills.
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            return proc, port
    raise SystemExit(f"replica exited before serving (code {proc.wait()})")


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream mcp {{
        server 127.0.0.1:{a} max_fails=1 fail_timeout=60s;
        server 127.0.0.1:{b} max_fails=1 fail_timeout=60s;
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://mcp;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, token, name="opentrain_get_credits"):
    """One tools/call through nginx: (result, None) or (None, why) for a connection-level failure."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": name, "arguments": {}}})
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2025-06-18", "Authorization": f"Bearer {token}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/mcp", body, headers)
        r = conn.getresponse()
        data = r.read()
    except (ConnectionError, http.client.HTTPException, OSError) as e:
        return None, f"connection: {e}"
    finally:
        conn.close()
    if r.status in (502, 503, 504):  # nginx: the replica died under this request
        return None, f"gateway {r.status}"
    if r.status != 200:
        raise SystemExit(f"unexpected HTTP {r.status}: {data[:300]!r}")
    return json.loads(data)["result"], None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/debug/opentrain-mcp")
    args = ap.parse_args()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        raise SystemExit("nginx is not installed (apt-get install nginx)")

    upstream = Upstream()
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    upstream_url = f"http://127.0.0.1:{upstream.server_address[1]}"
    work = tempfile.mkdtemp(prefix="opentrain-e2e-http-")
    procs = []
    try:
        a, port_a = start_replica(args.bin, upstream_url, os.path.join(work, "home-a"))
        b, port_b = start_replica(args.bin, upstream_url, os.path.join(work, "home-b"))
        procs += [a, b]
        port = free_port()
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=work, a=port_a, b=port_b, port=port))
        ngx = subprocess.Popen([nginx, "-c", conf, "-p", work], stderr=subprocess.PIPE, text=True)
        procs.append(ngx)
        deadline = time.monotonic() + 20
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz")
                break
            except OSError:
                if ngx.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"nginx did not start: {ngx.stderr.read() if ngx.stderr else ''}")
                time.sleep(0.05)

        done = 0
        done_lock = threading.Lock()
        killed = threading.Event()
        failures = []  # (tenant, why) of every connection-level failure the clients saw
        wrong = []

        def tenant(i):
            nonlocal done
            for _ in range(CALLS_PER_TENANT):
                while True:
                    result, why = call(port, token_of(i))
                    if result is not None:
                        break
                    failures.append((i, why))
                    time.sleep(0.01)
                owner = (result.get("structuredContent") or {}).get("credits", {}).get("owner")
                if result.get("isError") or owner != f"tenant-{i}":
                    wrong.append((i, result))
                with done_lock:
                    done += 1
                    if done == KILL_AFTER and not killed.is_set():
                        a.send_signal(signal.SIGKILL)
                        killed.set()

        threads = [threading.Thread(target=tenant, args=(i,)) for i in range(TENANTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        a.wait()

        assert killed.is_set(), "the replica was never stopped"
        assert not wrong, f"tenant isolation broken or calls failed: {wrong[:3]}"
        assert len(failures) <= TENANTS, f"more failures than calls in flight at the kill: {failures}"
        # Isolation upstream: every request carried a tenant's own token (never none, never another).
        assert len(upstream.seen) >= TENANTS * CALLS_PER_TENANT, "fewer upstream calls than answers"
        tokens = set(upstream.seen)
        assert tokens <= {token_of(i) for i in range(TENANTS)}, f"unexpected tokens upstream: {tokens}"

        # The survivor answers everything after, directly and through nginx.
        for n in range(AFTER_KILL):
            result, why = call(port, token_of(n % TENANTS))
            assert result is not None and not result.get("isError"), f"after the kill: {why or result}"
        result, why = call(port_b, token_of(0))
        assert result is not None, f"the survivor itself: {why}"

        total = TENANTS * CALLS_PER_TENANT
        print(f"e2e http: {TENANTS} tenants x {CALLS_PER_TENANT} calls through nginx over 2 replicas, one killed "
              f"after {KILL_AFTER}: all {total} answered with the caller's own data; {len(failures)} connection "
              f"failures retried (<= {TENANTS} in flight); {AFTER_KILL} more calls answered by the survivor")
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        upstream.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
