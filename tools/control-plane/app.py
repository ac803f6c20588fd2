#!/usr/bin/python3
"""A control plane to test node registration against (seed 003's /internal/runtime API).

FastAPI + uvicorn from Debian. It takes the collector's http sink batches
(NDJSON or a JSON array of events) or plain JSON objects, keeps a SQLite
table of runtime nodes, and marks a node unhealthy once three heartbeats
are missed. Test hooks under /_test/ make it answer an error for a while
and list what it received.

  /usr/bin/python3 tools/control-plane/app.py --db nodes.db [--port 8000] [--port-file F]
"""
import argparse
import json
import os
import socket
import sqlite3
import threading
import time

import uvicorn
from fastapi import FastAPI, Request, Response

app = FastAPI()
lock = threading.Lock()
state = {"db": None, "fail_status": 0, "fail_until": 0.0, "received": [], "requests": 0}

SCHEMA = """
CREATE TABLE IF NOT EXISTS runtime_nodes (
    node_id TEXT PRIMARY KEY, hostname TEXT, runtime_type TEXT, ip_address TEXT,
    api_endpoint TEXT, status TEXT, total_cpu_cores REAL, total_memory_mb INTEGER,
    running_containers INTEGER, heartbeat_ms INTEGER, last_heartbeat_at REAL,
    heartbeats INTEGER DEFAULT 0, registered_at REAL, info TEXT);
CREATE TABLE IF NOT EXISTS containers (
    container_id TEXT PRIMARY KEY, node_id TEXT, session_id TEXT, executor_url TEXT,
    status TEXT, at REAL);
"""


def records(body: bytes):
    """The JSON values of a body: an array, NDJSON, or one object."""
    text = body.decode()
    stripped = text.strip()
    if stripped.startswith("["):
        return json.loads(stripped)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def payload(rec):
    """A collector event's data, or the record itself when it is a plain request body."""
    if isinstance(rec, dict) and "type" in rec and isinstance(rec.get("data"), dict):
        return rec["type"], rec["data"]
    return None, rec


def failing():
    return state["fail_status"] if time.time() < state["fail_until"] else 0


def refresh_health(db):
    """Three missed heartbeats: unhealthy (a node that said it stops stays stopping)."""
    now = time.time()
    for node_id, hb_ms, last, status in db.execute(
            "SELECT node_id, heartbeat_ms, last_heartbeat_at, status FROM runtime_nodes"):
        if status == "stopping":
            continue
        late = last is not None and now - last > 3 * (hb_ms or 5000) / 1000.0
        new = "unhealthy" if late else "online"
        if new != status:
            db.execute("UPDATE runtime_nodes SET status=? WHERE node_id=?", (new, node_id))
    db.commit()


async def take(request: Request, handler):
    body = await request.body()
    with lock:
        state["requests"] += 1
        code = failing()
        if code:
            return Response(status_code=code, headers={"Retry-After": "1"} if code in (429, 503) else {})
        try:
            recs = records(body)
        except ValueError:
            return Response(status_code=400, content="body is not JSON")
        db = state["db"]
        array = body.lstrip().startswith(b"[")
        for rec in recs:
            typ, data = payload(rec)
            state["received"].append({"path": request.url.path, "type": typ, "array": array,
                                      "runner": rec.get("runner") if typ else None,
                                      "seq": rec.get("seq") if typ else None, "data": data})
            handler(db, typ, data)
        db.commit()
    return {"accepted": len(recs)}


def register(db, typ, d):
    if typ == "collector.heartbeat":
        return heartbeat(db, typ, d)
    addrs = d.get("addresses") or ["127.0.0.1"]
    status = "stopping" if d.get("state") == "stopping" else "online"
    now = time.time()
    db.execute("""INSERT INTO runtime_nodes (node_id, hostname, runtime_type, ip_address, api_endpoint,
        status, total_cpu_cores, total_memory_mb, running_containers, heartbeat_ms, last_heartbeat_at,
        registered_at, info) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
        ON CONFLICT(node_id) DO UPDATE SET hostname=excluded.hostname, status=excluded.status,
        runtime_type=excluded.runtime_type, ip_address=excluded.ip_address,
        total_cpu_cores=excluded.total_cpu_cores, total_memory_mb=excluded.total_memory_mb,
        heartbeat_ms=excluded.heartbeat_ms, last_heartbeat_at=excluded.last_heartbeat_at,
        info=excluded.info""",
               (d["node_id"], d.get("hostname"), d.get("runtime_type"), addrs[0], d.get("api_endpoint"),
                status, d.get("total_cpu_cores"), d.get("total_memory_mb"), 0, d.get("heartbeat_ms", 5000),
                now, now, json.dumps(d)))


def container_ready(db, typ, d):
    """A lifecycle event (exec.start, container.start, algorithm.ready, *.exit) or seed 003's body.

    Only records naming a container_id count: other events routed here (lines, calls) are taken
    and ignored, as a control plane ignores what it does not know."""
    cid = d.get("container_id")
    if not cid:
        return
    ended = typ is not None and (typ.endswith(".exit") or typ.endswith("exited"))
    db.execute("INSERT OR REPLACE INTO containers VALUES (?,?,?,?,?,?)",
               (str(cid), d.get("node_id"), d.get("session_id"), d.get("executor_url"),
                "exited" if ended else "ready", time.time()))


def heartbeat(db, typ, d):
    db.execute("""UPDATE runtime_nodes SET last_heartbeat_at=?, heartbeats=heartbeats+1,
        running_containers=COALESCE(?, running_containers),
        status=CASE WHEN status='stopping' THEN status ELSE 'online' END WHERE node_id=?""",
               (time.time(), d.get("running_containers"), d.get("node_id")))


@app.post("/internal/runtime/nodes/register")
async def post_register(request: Request):
    return await take(request, register)


@app.post("/internal/runtime/containers/ready")
async def post_ready(request: Request):
    return await take(request, container_ready)


@app.post("/internal/runtime/heartbeat")
async def post_heartbeat(request: Request):
    return await take(request, heartbeat)


@app.get("/internal/runtime/nodes")
def get_nodes():
    with lock:
        db = state["db"]
        refresh_health(db)
        cur = db.execute("SELECT node_id, hostname, runtime_type, ip_address, status, total_cpu_cores, "
                         "total_memory_mb, heartbeat_ms, heartbeats, last_heartbeat_at FROM runtime_nodes")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]


@app.get("/internal/runtime/containers")
def get_containers():
    with lock:
        cur = state["db"].execute("SELECT * FROM containers")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]


@app.post("/_test/fail")
async def test_fail(request: Request):
    """{"status": 503, "seconds": 3}: answer that status to every POST for that long."""
    d = await request.json()
    with lock:
        state["fail_status"] = int(d["status"])
        state["fail_until"] = time.time() + float(d["seconds"])
    return {"ok": True}


@app.get("/_test/received")
def test_received():
    with lock:
        return {"requests": state["requests"], "events": state["received"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--port", type=int, default=0, help="default: an ephemeral port")
    args = ap.parse_args()
    state["db"] = sqlite3.connect(args.db, check_same_thread=False)
    state["db"].executescript(SCHEMA)
    # An ephemeral port, bound here and handed to uvicorn: tests run in parallel.
    sock = socket.socket()
    sock.bind(("127.0.0.1", args.port))
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(sock.getsockname()[1]))
        os.rename(args.port_file + ".tmp", args.port_file)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


if __name__ == "__main__":
    main()
