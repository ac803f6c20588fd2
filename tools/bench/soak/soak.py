#!/usr/bin/env python3
"""Soak test of one collector process running every runner at once (`make soak`).

The collector runs, from one configuration file, for --minutes:
  - the process runner, following the forks of a load generator (tools/bench/soak/load.sh)
    that fork/execs /bin/true five times a second;
  - the ssl runner, seeing the load generator's TLS exchanges (tools/bench/tls_exchanges.py,
    real OpenSSL through python3's ssl module, under the command name soak-tls-PID);
  - four algorithm packages of tools/algo-sim with faults drawn from --seed (crashes after a
    few calls, one crashing often enough to open its circuit breaker, hangs with garbage
    lines, a leak past --memory-restart under a cgroup memory limit), fed calls through FIFOs,
    some with images in shared memory;
  - an exec runner whose command prints JSON lines, exits every 30 s and is restarted;
into a file sink (rotation + gzip) and a kafka sink (librdkafka's mock cluster, with injected
retriable broker errors). Every event goes to both sinks.

Every --interval seconds it prints a row: the collector's RSS and fd count, its child
processes, its shared-memory objects and cgroups, events emitted and delivered per sink (from
/metrics), restarts, open breakers and losses. At the end it stops the load, stops the
collector with SIGTERM, reads back every file (rotated ones through gzip) and every Kafka
message, and checks the targets of issue 9; the exit status is 1 when a verdict fails.
With an ASan build (BUILD=build-asan, `make soak SAN=1`) the collector's sanitizer reports go
to files that are counted.
"""
import argparse
import glob
import gzip
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HERE = os.path.dirname(os.path.abspath(__file__))
RSS_GROWTH_LIMIT_KIB = 1024
CALLS_PER_SECOND = 2


def die(msg):
    print(f"soak: {msg}", file=sys.stderr)
    sys.exit(2)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port):
    """The collector's /metrics as {(name, frozenset(labels)): value}; None when unreachable."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        m = re.match(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$', line)
        if not m:
            continue
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metric_sum(metrics, name, **want):
    return sum(v for (n, labels), v in metrics.items()
               if n == name and all((k, w) in labels for k, w in want.items()))


def proc_table():
    """{pid: (ppid, starttime)} of every process."""
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        table[int(d)] = (int(fields[1]), fields[19])
    return table


def descendants(root, table):
    kids = {}
    for pid, (ppid, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def shm_objects(pid):
    return glob.glob(f"/dev/shm/collector.{pid}.*")


def cgroups(pid):
    found = []
    for depth in range(1, 6):
        found += glob.glob("/sys/fs/cgroup/" + "*/" * depth + f"collector-algo.{pid}.*")
    return found


def write_ppm(path, w, h, seed):
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h))
        f.write(bytes(rnd.randrange(256) for _ in range(w * h * 3)))


class Feeder(threading.Thread):
    """Writes algorithm calls into each package's FIFO, CALLS_PER_SECOND per package."""

    def __init__(self, fifos):
        super().__init__(daemon=True)
        self.fds = {name: os.open(path, os.O_RDWR | os.O_NONBLOCK) for name, path in fifos.items()}
        self.sent = {name: 0 for name in fifos}
        self.stalled = {name: 0 for name in fifos}
        self.stop = threading.Event()

    def run(self):
        n = 0
        while not self.stop.wait(1.0 / CALLS_PER_SECOND):
            n += 1
            for name, fd in self.fds.items():
                call = {"method": "execute", "params": {"n": n, "package": name}}
                if n % 3 == 0:
                    call["image"] = "frame.ppm"
                try:
                    os.write(fd, (json.dumps(call) + "\n").encode())
                    self.sent[name] += 1
                except BlockingIOError:
                    self.stalled[name] += 1

    def halt(self):
        self.stop.set()
        self.join()

    def close(self):
        """Only after the collector exited: the end of a FIFO ends the runner's calls."""
        for fd in self.fds.values():
            os.close(fd)


def packages(work, build, rnd, asan):
    """Four algorithm packages with faults drawn from rnd: {name: (dir, runner options)}."""
    sim = [f"{build}/tools/algo-sim/algo_sim"]
    if asan:
        # The children's own faults (SIGSEGV, abort, leaks) are theirs, not the collector's.
        sim = ["/usr/bin/env", "ASAN_OPTIONS=detect_leaks=0:handle_segv=0:handle_abort=0",
               "UBSAN_OPTIONS="] + sim
    specs = {
        "crashy": (["--crash-after", str(rnd.randint(20, 60)),
                    "--crash-mode", rnd.choice(["segv", "abort", "exit"]), "--latency-us", "500"],
                   {"call_timeout_ms": 2000, "max_inflight": 2}, {"instances": 2}),
        "breaker": (["--crash-after", str(rnd.randint(1, 3))],
                    {"call_timeout_ms": 1000}, {"breaker-cooldown": "15s"}),
        "hangy": (["--hang-after", str(rnd.randint(30, 80)),
                   "--garbage-every", str(rnd.randint(5, 13)), "--stderr-lines", "1"],
                  {"call_timeout_ms": 500}, {}),
        "leaky": (["--leak-mb", "1", "--fail-every", str(rnd.randint(4, 9))],
                  {"memory_mb": 256, "call_timeout_ms": 2000}, {"memory-restart": "40MiB"}),
    }
    out = {}
    for name, (args, limits, opts) in specs.items():
        d = f"{work}/pkg-{name}"
        os.makedirs(d)
        with open(f"{d}/manifest.json", "w") as f:
            json.dump({"name": name, "version": "1.0.0", "protocol": 1,
                       "entry_point": sim + args, "limits": limits}, f)
        out[name] = (d, opts, args)
    return out


def config(work, pkgs, load_pid, tls_comm, boot, port):
    calls = {name: f"{work}/calls/{name}.fifo" for name in pkgs}
    runners = [
        {"name": "process", "type": "process", "pid": load_pid, "tree": True},
        {"name": "ssl", "type": "ssl", "comm": tls_comm},
        {"name": "ticker", "type": "exec", "format": "json", "restart": "always",
         "max-restarts": 1000000, "restart-delay": "1s",
         "command": ["sh", "-c", 'i=0; while [ $i -lt 150 ]; do i=$((i+1)); '
                     'echo "{\\"type\\":\\"soak.tick\\",\\"data\\":{\\"n\\":$i}}"; '
                     'sleep 0.2; done']},
    ]
    for name, (d, opts, _) in pkgs.items():
        runners.append(dict({"name": f"algo-{name}", "type": "algorithm", "package": d,
                             "calls": calls[name], "crash-dir": f"{work}/crashes"}, **opts))
    sinks = [
        {"name": "file", "type": "file", "path": f"{work}/out/events.jsonl",
         "rotate-size": "1MiB", "compress": "gzip"},
        {"name": "kafka", "type": "kafka", "url": f"kafka://{boot}/events",
         "X": ["linger.ms=5"]},
    ]
    cfg = {"metrics": f"127.0.0.1:{port}", "runners": runners, "sinks": sinks,
           "routes": [{"match": "*", "sinks": ["file", "kafka"]}]}
    path = f"{work}/collector.json"
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    return path, calls


def read_events(lines):
    """(events, unparsable lines) from an iterable of JSON lines."""
    events, bad = [], 0
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            events.append(json.loads(line))
        except ValueError:
            bad += 1
    return events, bad


def file_events(outdir):
    lines = []
    for path in sorted(os.listdir(outdir)):
        full = f"{outdir}/{path}"
        if path.endswith(".gz"):
            with gzip.open(full, "rt", errors="replace") as f:
                lines += f.readlines()
        elif path.startswith("events.jsonl"):
            with open(full, errors="replace") as f:
                lines += f.readlines()
    return read_events(lines)


def kafka_events(consumer, path):
    """Every message the consumer read, once it has stopped getting more (at most 120 s)."""
    size, still = -1, 0
    for _ in range(240):
        now = os.path.getsize(path)
        still = still + 1 if now == size else 0
        if still >= 6:
            break
        size = now
        time.sleep(0.5)
    consumer.terminate()
    consumer.wait(timeout=30)
    with open(path, errors="replace") as f:
        return read_events(f.readlines())


def fd_targets(pid):
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return out


def fd_kinds(pid, kids):
    """The collector's fds by kind (pipe, socket, anon_inode:[eventpoll], file, ...); pipes
    whose other end a child holds are "child pipe": they come and go with the children."""
    held = set()
    for k in kids:
        try:
            held.update(t for t in fd_targets(k) if t.startswith("pipe:"))
        except OSError:
            pass
    kinds = {}
    for target in fd_targets(pid):
        kind = target if target.startswith("anon_inode:") else \
            "file" if target.startswith("/") else target.split(":")[0]
        if kind == "pipe" and target in held:
            kind = "child pipe"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def seq_check(events):
    """Per runner: (count, duplicates, missing seqs between the first and the last)."""
    seqs = {}
    for e in events:
        seqs.setdefault(e.get("runner", "?"), []).append(e.get("seq", -1))
    out = {}
    for runner, s in seqs.items():
        uniq = set(s)
        span = max(uniq) - min(uniq) + 1
        out[runner] = (len(s), len(s) - len(uniq), span - len(uniq), min(uniq), max(uniq))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--interval", type=float, default=10, help="seconds between samples")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()

    build = os.path.abspath(os.environ.get("BUILD", f"{ROOT}/build"))
    collector = f"{build}/collector"
    if os.geteuid() != 0:
        die("needs root (the process and ssl runners load BPF programs)")
    for tool in ("kcat", "openssl", "python3"):
        if not shutil.which(tool):
            die(f"{tool} is missing (make deps)")
    for b in (collector, f"{build}/tools/algo-sim/algo_sim", f"{build}/tools/testchild/kafka_mock"):
        if not os.access(b, os.X_OK):
            die(f"{b} is missing (make BUILD={build})")
    with open(collector, "rb") as f:
        asan = b"__asan_init" in f.read()
    seed = args.seed if args.seed is not None else int(time.time())
    rnd = random.Random(seed)
    duration = args.minutes * 60
    warmup = max(60.0, 0.2 * duration)

    work = tempfile.mkdtemp(prefix="collector-soak.")
    for d in ("out", "calls", "tmp", "asan"):
        os.makedirs(f"{work}/{d}")
    print(f"soak: {args.minutes:g} min, samples every {args.interval:g} s, warm-up {warmup:.0f} s, "
          f"seed {seed}, {'ASan build' if asan else 'build'} {build}, work {work}")
    print(f"soak: load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f} (1/5/15 min)")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    f"{work}/key.pem", "-out", f"{work}/cert.pem", "-days", "1", "-subj",
                    "/CN=localhost"], check=True, stderr=subprocess.DEVNULL)
    # A link's name becomes the command name the ssl runner filters on (not a shim script);
    # one name per run, so that two soaks on one machine do not see each other's traffic.
    tls_comm = f"soak-tls-{os.getpid() % 100000}"
    os.symlink(os.path.realpath(sys.executable), f"{work}/{tls_comm}")
    write_ppm(f"{work}/calls/frame.ppm", 64, 48, seed)

    helpers = []
    mock = subprocess.Popen([f"{build}/tools/testchild/kafka_mock", "--brokers", "3",
                             "--fail-every", "20000", "--fail-count", "1"],
                            stdout=subprocess.PIPE, stderr=open(f"{work}/mock.err", "w"),
                            text=True, env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    helpers.append(mock)
    boot = mock.stdout.readline().strip()
    if not boot:
        die(f"the kafka mock did not start: {open(work + '/mock.err').read()}")
    # The mock keeps only the last 5 MiB of a partition: read the topic as it is written.
    consumer = subprocess.Popen(["kcat", "-C", "-b", boot, "-t", "events", "-o", "beginning", "-q",
                                 "-f", "%s\n"], stdout=open(f"{work}/kafka.jsonl", "w"),
                                stderr=subprocess.DEVNULL)
    helpers.append(consumer)
    load = subprocess.Popen(["bash", f"{HERE}/load.sh", work, f"{work}/{tls_comm}"],
                            start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    helpers.append(load)

    pkgs = packages(work, build, rnd, asan)
    port = free_port()
    cfg, fifos = config(work, pkgs, load.pid, tls_comm, boot, port)
    for path in fifos.values():
        os.mkfifo(path)
    feeder = Feeder(fifos)
    for name, (_, opts, sim_args) in pkgs.items():
        print(f"soak: package {name}: algo-sim {' '.join(sim_args)} {json.dumps(opts)}")

    v = subprocess.run([collector, "validate", "--config", cfg], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if v.returncode != 0:
        die(f"the configuration is invalid:\n{v.stdout}")
    tag = f"SOAK_TAG={os.path.basename(work)}"
    env = dict(os.environ, TMPDIR=f"{work}/tmp", SOAK_TAG=os.path.basename(work))
    if asan:
        env["ASAN_OPTIONS"] = f"log_path={work}/asan/asan:detect_leaks=1"
        env["UBSAN_OPTIONS"] = f"log_path={work}/asan/ubsan:print_stacktrace=1"
    err = open(f"{work}/collector.err", "w")
    coll = subprocess.Popen([collector, "run", "--config", cfg], stdout=subprocess.DEVNULL,
                            stderr=err, env=env)
    t0 = time.monotonic()
    while scrape(port) is None:
        if coll.poll() is not None or time.monotonic() - t0 > 30:
            die(f"the collector did not start:\n{open(work + '/collector.err').read()}")
        time.sleep(0.2)
    feeder.start()

    seen_children = {}
    samples = []
    fd_samples = []
    header = (f"{'t(s)':>6} {'rss KiB':>8} {'fds':>4} {'kids':>4} {'shm':>3} {'cgrp':>4} "
              f"{'emitted':>8} {'file':>8} {'kafka':>8} {'queued':>6} {'restarts':>8} "
              f"{'brk':>3} {'lost':>4} health")
    print(header, flush=True)
    metrics = None
    next_t = t0
    while True:
        now = time.monotonic() - t0
        if coll.poll() is not None:
            print(f"soak: the collector exited early with status {coll.returncode}")
            break
        table = proc_table()
        kids = descendants(coll.pid, table)
        for k in kids:
            seen_children[k] = table[k][1]
        m = scrape(port)
        metrics = m or metrics
        if m:
            row = {
                "t": now, "rss": rss_kib(coll.pid), "fds": len(os.listdir(f"/proc/{coll.pid}/fd")),
                "kids": len(kids), "shm": len(shm_objects(coll.pid)),
                "cgroups": len(cgroups(coll.pid)),
                "emitted": metric_sum(m, "collector_runner_events_total"),
                "file": metric_sum(m, "collector_sink_events_delivered_total", sink="file"),
                "kafka": metric_sum(m, "collector_sink_events_delivered_total", sink="kafka"),
                "queued": metric_sum(m, "collector_sink_queue_events"),
                "restarts": metric_sum(m, "collector_runner_restarts_total"),
                "breaker": metric_sum(m, "collector_runner_breaker_open"),
                "lost": metric_sum(m, "collector_sink_events_dropped_total") +
                metric_sum(m, "collector_sink_events_failed_total") +
                metric_sum(m, "collector_runner_kernel_lost_total"),
                "health": int(metric_sum(m, "collector_health")),
            }
            samples.append(row)
            print(f"{now:6.0f} {row['rss']:8d} {row['fds']:4d} {row['kids']:4d} {row['shm']:3d} "
                  f"{row['cgroups']:4d} {row['emitted']:8.0f} {row['file']:8.0f} "
                  f"{row['kafka']:8.0f} {row['queued']:6.0f} {row['restarts']:8.0f} "
                  f"{row['breaker']:3.0f} {row['lost']:4.0f} "
                  f"{['ok', 'degraded', 'failing'][min(row['health'], 2)]}", flush=True)
        if now >= duration:
            break
        next_t += args.interval
        # Between rows the fd count once a second: its floor over minutes is the baseline.
        while time.monotonic() < min(next_t, t0 + duration) and coll.poll() is None:
            time.sleep(max(0.0, min(1.0, min(next_t, t0 + duration) - time.monotonic())))
            try:
                kinds = fd_kinds(coll.pid, descendants(coll.pid, proc_table()))
            except OSError:
                break
            fd_samples.append((time.monotonic() - t0,
                               sum(v for k, v in kinds.items() if k != "child pipe"), kinds))

    # Stop the load first, let the pipeline settle, then stop the collector.
    os.killpg(load.pid, signal.SIGTERM)
    load.wait(timeout=60)
    feeder.halt()
    time.sleep(3)
    last = scrape(port) or metrics or {}
    stop_t = time.monotonic()
    coll.send_signal(signal.SIGTERM)
    try:
        status = coll.wait(timeout=120)
    except subprocess.TimeoutExpired:
        coll.kill()
        status = coll.wait()
    stop_s = time.monotonic() - stop_t
    err.close()
    feeder.close()
    time.sleep(0.5)

    # What the collector left behind.
    table = proc_table()
    left_procs = [p for p, st in seen_children.items() if p in table and table[p][1] == st]
    for pid in table:
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if tag.encode() in f.read().split(b"\0") and pid not in left_procs:
                    left_procs.append(pid)
        except OSError:
            pass
    left_shm = shm_objects(coll.pid)
    left_cg = cgroups(coll.pid)
    left_tmp = os.listdir(f"{work}/tmp") + [p for p in os.listdir("/tmp")
                                             if re.search(rf"\b{coll.pid}\b", p)]

    fevents, fbad = file_events(f"{work}/out")
    kevents, kbad = kafka_events(consumer, f"{work}/kafka.jsonl")
    mock.send_signal(signal.SIGTERM)
    mock.wait(timeout=30)
    injected = re.findall(r"injected (\d+) errors", open(f"{work}/mock.err").read())
    counts = open(f"{work}/load.counts").read().strip() if os.path.exists(
        f"{work}/load.counts") else "?"
    rotated = len([p for p in os.listdir(f"{work}/out") if p.endswith(".gz")])
    stderr_text = open(f"{work}/collector.err", errors="replace").read()
    reports = []
    for p in glob.glob(f"{work}/asan/*"):
        text = open(p, errors="replace").read()
        if re.search(r"ERROR: (Address|Leak)Sanitizer|runtime error:", text):
            reports.append(p)

    with open(f"{work}/samples.json", "w") as f:
        json.dump({"rows": samples, "fds": fd_samples}, f)
    print()
    print(f"soak: summary after {samples[-1]['t'] if samples else 0:.0f} s "
          f"(load now {os.getloadavg()[0]:.2f})")
    print(f"  load generator: {counts}; algorithm calls fed: "
          + ", ".join(f"{n} {c}" for n, c in feeder.sent.items())
          + f"; feeder found a FIFO full {sum(feeder.stalled.values())} times")
    runners = sorted({dict(k[1]).get("runner") for k in last if dict(k[1]).get("runner")})
    print(f"  {'runner':<14} {'emitted':>8} {'restarts':>8} {'errors':>6}")
    for r in runners:
        print(f"  {r:<14} {metric_sum(last, 'collector_runner_events_total', runner=r):8.0f} "
              f"{metric_sum(last, 'collector_runner_restarts_total', runner=r):8.0f} "
              f"{metric_sum(last, 'collector_runner_errors_total', runner=r):6.0f}")
    crashes = [e for e in fevents if e.get("type") == "algorithm.crash"]
    openings = sum(1 for e in crashes if e.get("data", {}).get("breaker") == "open")
    losses = [e for e in fevents if e.get("type") == "collector.loss"]
    print(f"  algorithm crashes {len(crashes)}, breaker openings {openings}, "
          f"restarts {metric_sum(last, 'collector_runner_restarts_total'):.0f}; "
          f"kafka broker errors injected {injected[0] if injected else '?'}; "
          f"files rotated+gzipped {rotated}")
    print(f"  collector exit status {status} after SIGTERM, stopped in {stop_s:.1f} s")

    verdicts = []

    def verdict(ok, text):
        verdicts.append(ok)
        print(f"VERDICT {'PASS' if ok else 'FAIL'}: {text}")

    post = [s for s in samples if s["t"] >= warmup]
    print()
    if len(post) >= 6 and fd_samples:
        first = statistics.median(s["rss"] for s in post[:3])
        end = statistics.median(s["rss"] for s in post[-3:])
        peak = max(s["rss"] for s in post)
        slope = statistics.linear_regression([s["t"] for s in post],
                                             [s["rss"] for s in post]).slope * 60
        rss_text = (f"RSS after warm-up ({warmup:.0f} s): {first:.0f} -> {end:.0f} KiB "
                f"(median of first/last 3 samples), growth {end - first:+.0f} KiB "
                f"<= {RSS_GROWTH_LIMIT_KIB} KiB; peak {peak} KiB, fitted slope {slope:+.1f} KiB/min")
        if asan:
            print(f"VERDICT SKIP: {rss_text} (ASan's quarantine grows by design)")
        else:
            verdict(end - first <= RSS_GROWTH_LIMIT_KIB, rss_text)
        # Children come and go with their pipes: a leak raises the floor, not a sample.
        fds = [(n, kinds) for t, n, kinds in fd_samples if t >= warmup]
        third = max(1, len(fds) // 3)
        low_first = min(fds[:third], key=lambda x: x[0])
        low_last = min(fds[-third:], key=lambda x: x[0])
        verdict(low_last[0] <= low_first[0],
                f"fd count flat after warm-up: fds other than pipes to live children, lowest "
                f"count {low_first[0]} in the first third, {low_last[0]} in the last third "
                f"(sampled every second); range {min(n for n, _ in fds)}.."
                f"{max(n for n, _ in fds)}")
        print(f"  fds at the lowest count of the first third: {json.dumps(low_first[1])}")
        print(f"  fds at the lowest count of the last third:  {json.dumps(low_last[1])}")
    else:
        verdict(False, f"too few samples after warm-up ({len(post)}) to judge RSS and fds")

    fseq, kseq = seq_check(fevents), seq_check(kevents)
    for name, seqs, events, bad in (("file", fseq, fevents, fbad), ("kafka", kseq, kevents, kbad)):
        accepted = (metric_sum(last, "collector_sink_events_delivered_total", sink=name)
                    + metric_sum(last, "collector_sink_queue_events", sink=name)
                    + metric_sum(last, "collector_sink_events_failed_total", sink=name)
                    + metric_sum(last, "collector_sink_events_dropped_total", sink=name))
        dups = sum(v[1] for v in seqs.values())
        gaps = sum(v[2] for v in seqs.values())
        low = [r for r, v in seqs.items() if v[3] > 1]
        emitted = sum(v[4] - v[3] + 1 for v in seqs.values())
        verdict(dups == 0 and gaps == 0 and not low and bad == 0 and len(events) == emitted
                and len(events) >= accepted,
                f"sink {name}: delivered {len(events)} == accepted {emitted} (every runner's seq "
                f"from its first to its last event; /metrics said {accepted:.0f} just before "
                f"SIGTERM), duplicates {dups}, gaps {gaps}, torn lines {bad}"
                + (f", runners starting late: {low}" if low else ""))
    same = {(e.get("runner"), e.get("seq")) for e in fevents} == \
        {(e.get("runner"), e.get("seq")) for e in kevents}
    verdict(same, "file and kafka sinks hold the same events")
    lost = (metric_sum(last, "collector_sink_events_dropped_total")
            + metric_sum(last, "collector_sink_events_failed_total"))
    verdict(status == 0 and not losses and lost == 0
            and "were not delivered" not in stderr_text,
            f"no loss, no failed runner: exit status {status} (1 = a runner failed, 3 = loss), {len(losses)} collector.loss events, "
            f"{lost:.0f} dropped/failed in /metrics")
    verdict(not left_procs, f"no process left behind ({len(seen_children)} children seen"
            + (f"; left: {left_procs}" if left_procs else "") + ")")
    verdict(not left_shm, "no shared-memory object left in /dev/shm"
            + (f": {left_shm}" if left_shm else ""))
    verdict(not left_cg, "no cgroup left behind" + (f": {left_cg}" if left_cg else ""))
    verdict(not left_tmp, "no temporary file left behind" + (f": {left_tmp}" if left_tmp else ""))
    if asan:
        verdict(not reports, f"sanitizer reports: {len(reports)}"
                + (f" ({', '.join(reports)})" if reports else ""))
    else:
        print("VERDICT SKIP: sanitizer reports (not an ASan build: make soak SAN=1)")

    failed = not all(verdicts)
    for h in helpers:
        if h.poll() is None:
            h.kill()
            h.wait()
    if failed or args.keep:
        print(f"soak: work directory kept: {work} (collector.err, out/, collector.json)")
    else:
        shutil.rmtree(work)
    print(f"soak: {'FAILED' if failed else 'passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
