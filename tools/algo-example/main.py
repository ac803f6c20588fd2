#!/usr/bin/env python3
"""A complete algorithm child in plain Python (standard library only): copy it to start yours.

It speaks docs/protocol.md: hello, calls (with the image from shared memory), ping/pong,
log and event messages, shutdown. Its "algorithm" is the mean brightness of the image.
"""
import json
import mmap
import os
import sys

PROTOCOL = 1


def send(msg):
    sys.stdout.write(json.dumps(msg, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class SharedImages:
    """Maps the host's shared-memory object read-only, once, and hands out views."""

    def __init__(self):
        self.name = None
        self.map = None

    def view(self, call):
        name = call.get("shared_mem_id")
        if name is None:
            return None
        if name != self.name:
            if self.map is not None:
                self.map.close()
            with open("/dev/shm" + name, "rb") as f:
                self.map = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
            self.name = name
        offset, size = call["offset"], call["size"]
        return memoryview(self.map)[offset:offset + size]


def execute(config, params, image, meta):
    if image is None:
        return {"mean": None, "threshold": config.get("threshold")}
    # Sample every 97th byte: enough for a demo, cheap for big frames.
    sample = image[::97]
    mean = sum(sample) / max(len(sample), 1)
    return {"mean": round(mean, 2), "width": meta.get("width"),
            "height": meta.get("height"), "bright": mean > 255 * config.get("threshold", 0.5)}


def main():
    config = {}
    images = SharedImages()
    send({"type": "hello", "protocol": PROTOCOL, "name": "mean-brightness",
          "version": "1.0.0", "capabilities": ["execute", "pre_execute"]})
    for line in sys.stdin:
        try:
            msg = json.loads(line)
        except ValueError:
            print("bad line from the host", file=sys.stderr, flush=True)
            continue
        kind = msg.get("type")
        if kind == "hello":
            config = msg.get("config") or {}
            send({"type": "log", "level": "info", "message": "configured",
                  "fields": {"config": config}})
        elif kind == "ping":
            send({"type": "pong", "seq": msg.get("seq")})
        elif kind == "call":
            call_id = msg.get("id")
            method = msg.get("method")
            try:
                if method == "pre_execute":
                    send({"type": "result", "id": call_id, "ok": True, "data": {"warm": True}})
                    continue
                if method != "execute":
                    raise LookupError("unknown method " + str(method))
                data = execute(config, msg.get("params") or {}, images.view(msg),
                               msg.get("image_meta") or {})
                if data.get("bright"):
                    send({"type": "event", "name": "bright_frame", "data": {"call": call_id}})
                send({"type": "result", "id": call_id, "ok": True, "data": data})
            except LookupError as e:
                send({"type": "result", "id": call_id, "ok": False,
                      "error": {"code": "UNKNOWN_METHOD", "message": str(e)}})
            except Exception as e:  # an answer, never a crash, for one bad call
                send({"type": "result", "id": call_id, "ok": False,
                      "error": {"code": "INTERNAL", "message": repr(e)}})
        elif kind == "shutdown":
            break
        # Unknown message types are ignored, as the protocol requires.
    return 0


if __name__ == "__main__":
    sys.exit(main())
