#!/usr/bin/python3
"""A command-line client of collector.algorithm.v1 (docs/service.md), on Debian's grpcio.

Stubs are generated from the repository's proto/ into a temporary directory at start
(python3-grpc-tools), so nothing generated is committed. Every answer is printed as one
JSON line; a failed call prints {"error": CODE, "code": DETAIL, "message": ...} and exits 1.
"""
import argparse
import json
import mmap
import os
import sys
import tempfile
import threading
import time

import grpc
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.normpath(os.path.join(HERE, "..", "..", "..", "proto"))


def load_stubs(proto_dir, out=None):
    """Generate the stubs (into OUT once, when given); health.proto goes in as a top-level
    module, since a grpc/ package of its own would shadow grpcio's."""
    if out and os.path.exists(os.path.join(out, "health_pb2_grpc.py")):
        sys.path.insert(0, out)
        return import_stubs()
    out = out or tempfile.mkdtemp(prefix="algo-stubs.")
    flat = os.path.join(out, "src")
    os.makedirs(flat, exist_ok=True)
    with open(os.path.join(proto_dir, "grpc/health/v1/health.proto")) as f, \
            open(os.path.join(flat, "health.proto"), "w") as g:
        g.write(f.read())
    args = ["protoc", "-I" + proto_dir, "--python_out=" + out, "--grpc_python_out=" + out,
            "collector/algorithm/v1/algorithm.proto"]
    if protoc.main(args) != 0 or protoc.main(["protoc", "-I" + flat, "--python_out=" + out,
                                               "--grpc_python_out=" + out, "health.proto"]) != 0:
        sys.exit("algo_client: protoc failed on " + proto_dir)
    sys.path.insert(0, out)
    return import_stubs()


def import_stubs():
    from collector.algorithm.v1 import algorithm_pb2, algorithm_pb2_grpc  # noqa: E402
    import health_pb2
    import health_pb2_grpc
    return algorithm_pb2, algorithm_pb2_grpc, health_pb2, health_pb2_grpc


def show(msg):
    from google.protobuf.json_format import MessageToDict
    print(json.dumps(MessageToDict(msg, preserving_proto_field_name=True,
                                   including_default_value_fields=True)), flush=True)


def fail(e):
    detail = dict(e.trailing_metadata() or ()).get("collector-code", "")
    print(json.dumps({"error": e.code().name, "code": int(detail) if detail else 0,
                      "message": e.details()}), flush=True)
    sys.exit(1)


def write_slot(slot, data):
    """Write the pixels into a leased slot of the pool: they never cross the socket."""
    fd = os.open("/dev/shm" + slot.shm_name, os.O_RDWR)
    try:
        with mmap.mmap(fd, slot.offset + slot.size) as m:
            m[slot.offset:slot.offset + len(data)] = data
    finally:
        os.close(fd)


def image(pb, stub, a, index=0):
    if not a.width:
        return None
    w, h = a.width, a.height
    data = bytes([index % 256]) * (w * h * 3)
    meta = dict(width=w, height=h, channels=3, stride=w * 3, format="rgb8")
    if not a.slot:
        return pb.Image(data=data, **meta)
    slot = stub.LeaseSlot(pb.LeaseSlotRequest(count=1, ttl_ms=a.ttl)).slots[0]
    write_slot(slot, data)
    return pb.Image(slot=pb.SlotRef(slot=slot.slot, lease=slot.lease), size=len(data), **meta)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--target", required=True, help="unix:/path or 127.0.0.1:PORT")
    p.add_argument("--proto", default=PROTO, help="the repository's proto/ directory")
    p.add_argument("--stubs", help="keep the generated stubs in this directory")
    p.add_argument("--timeout", type=float, default=10.0, help="per call, seconds")
    p.add_argument("--width", type=int, default=0, help="send a WIDTHxHEIGHT rgb8 image")
    p.add_argument("--height", type=int, default=0)
    p.add_argument("--slot", action="store_true", help="the image through a leased slot")
    p.add_argument("--ttl", type=int, default=10000, help="lease time, ms")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("execute", "pre-execute"):
        s = sub.add_parser(name)
        s.add_argument("--params", default="{}")
        s.add_argument("--tag", default="")
        s.add_argument("--source", default="")
    s = sub.add_parser("batch")
    s.add_argument("n", type=int)
    s = sub.add_parser("lease")
    s.add_argument("n", type=int)
    s = sub.add_parser("release", help="give leased slots back: SLOT:LEASE ...")
    s.add_argument("slots", nargs="+")
    s = sub.add_parser("health")
    s.add_argument("--service", default="")
    s = sub.add_parser("watch", help="print health changes until N were seen")
    s.add_argument("n", type=int)
    s = sub.add_parser("frames", help="a camera stream of N frames")
    s.add_argument("--source", default="cam")
    s.add_argument("--count", type=int, default=10)
    s.add_argument("--max-pending", type=int, default=0)
    s.add_argument("--fps", type=float, default=0, help="0: as fast as the stream takes them")
    s.add_argument("--hang", action="store_true", help="never close the stream (for kill -9)")
    s = sub.add_parser("subscribe", help="print N results (filtered)")
    s.add_argument("n", type=int)
    s.add_argument("--source", default="")
    s.add_argument("--instance", type=int, action="append", default=[])
    s.add_argument("--outcome", action="append", default=[])
    s.add_argument("--queue", type=int, default=0)
    s = sub.add_parser("add-source")
    s.add_argument("source")
    s.add_argument("dir")
    s.add_argument("--fps", type=int, default=10)
    s.add_argument("--loop", action="store_true")
    s = sub.add_parser("remove-source")
    s.add_argument("source")
    sub.add_parser("list-sources")
    sub.add_parser("metrics")
    a = p.parse_args()

    pb, rpc, hpb, hrpc = load_stubs(a.proto, a.stubs)
    ch = grpc.insecure_channel(a.target)
    stub, health = rpc.AlgorithmStub(ch), hrpc.HealthStub(ch)
    t = a.timeout
    try:
        if a.cmd in ("execute", "pre-execute"):
            req = pb.ExecuteRequest(params_json=a.params, tag=a.tag, source=a.source,
                                    image=image(pb, stub, a))
            show((stub.Execute if a.cmd == "execute" else stub.PreExecute)(req, timeout=t))
        elif a.cmd == "batch":
            show(stub.ExecuteBatch(pb.ExecuteBatchRequest(
                calls=[pb.ExecuteRequest(params_json=json.dumps({"n": i}), tag=str(i))
                       for i in range(a.n)]), timeout=t))
        elif a.cmd == "lease":
            show(stub.LeaseSlot(pb.LeaseSlotRequest(count=a.n, ttl_ms=a.ttl), timeout=t))
        elif a.cmd == "release":
            refs = [pb.SlotRef(slot=int(x.split(":")[0]), lease=int(x.split(":")[1]))
                    for x in a.slots]
            show(stub.ReleaseSlot(pb.ReleaseSlotRequest(slots=refs), timeout=t))
        elif a.cmd == "health":
            show(health.Check(hpb.HealthCheckRequest(service=a.service), timeout=t))
        elif a.cmd == "watch":
            for i, r in enumerate(health.Watch(hpb.HealthCheckRequest(), timeout=t)):
                show(r)
                if i + 1 >= a.n:
                    break
        elif a.cmd == "frames":
            def frames():
                for i in range(a.count):
                    yield pb.Frame(source=a.source, frame_id=i, params_json="{}",
                                   max_pending=a.max_pending, image=image(pb, stub, a, i))
                    if a.fps:
                        time.sleep(1 / a.fps)
                if a.hang:
                    threading.Event().wait()
            for r in stub.StreamFrames(frames(), timeout=None if a.hang else t):
                show(r)
        elif a.cmd == "subscribe":
            req = pb.SubscribeRequest(source=a.source, instances=a.instance,
                                      outcome=a.outcome, queue=a.queue)
            for i, r in enumerate(stub.SubscribeResults(req, timeout=t)):
                show(r)
                if i + 1 >= a.n:
                    break
        elif a.cmd == "add-source":
            show(stub.AddSource(pb.AddSourceRequest(source=a.source, frames_dir=a.dir,
                                                    fps=a.fps, loop=a.loop), timeout=t))
        elif a.cmd == "remove-source":
            show(stub.RemoveSource(pb.RemoveSourceRequest(source=a.source), timeout=t))
        elif a.cmd == "list-sources":
            show(stub.ListSources(pb.ListSourcesRequest(), timeout=t))
        elif a.cmd == "metrics":
            show(stub.GetMetrics(pb.GetMetricsRequest(), timeout=t))
    except grpc.RpcError as e:
        fail(e)


if __name__ == "__main__":
    main()
