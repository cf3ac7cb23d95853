"""`scripts/bench --service`: narration as a service under load (not a timed test).

1. Submissions: 200 POSTs from 20 concurrent clients against `aloud serve` (embedded SQLite
   queue, 2 workers inside, a fast fake voice): every one accepted (202), every id distinct,
   every narration done; p50/p99 submit latency.
2. Throughput: articles per minute with 1 and 2 `aloud worker` processes through a fake
   network backend (an OpenAI-compatible server here, answering every sentence after a fixed
   latency with a fixed WAV).
3. Queue overhead per job: a worker's wall time per article minus the narration's own time
   (the summary's wall_seconds), i.e. taking the job, recording it, reading the article and
   opening the voice.
"""

import io
import json
import math
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import wave
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LATENCY = float(os.environ.get("ALOUD_BENCH_LATENCY", "0.2"))
SUBMISSIONS = int(os.environ.get("ALOUD_BENCH_SUBMISSIONS", "200"))
CLIENTS = int(os.environ.get("ALOUD_BENCH_CLIENTS", "20"))
ARTICLES = int(os.environ.get("ALOUD_BENCH_ARTICLES", "40"))


def tone_wav(seconds=0.6, rate=24000):
    """A quiet 220 Hz tone with silence either side: what the fake server says every time."""
    frames = bytearray()
    n = int(seconds * rate)
    for i in range(n):
        edge = min(i, n - i) / rate
        amplitude = 0.0 if edge < 0.05 else 0.2
        frames += struct.pack("<h", int(amplitude * 32767 * math.sin(2 * math.pi * 220 * i / rate)))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return out.getvalue()


def fake_backend():
    """An OpenAI-compatible speech server on loopback with a fixed latency; its port."""
    audio = tone_wav()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            self.rfile.read(length)
            time.sleep(LATENCY)
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(len(audio)))
            self.end_headers()
            self.wfile.write(audio)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait_healthy(port, proc):
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench: aloud serve exited with {proc.returncode}")
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("bench: aloud serve did not answer")


def wait_done(port, ids, limit=900):
    deadline = time.time() + limit
    pending = set(ids)
    states = {}
    while pending and time.time() < deadline:
        for i in list(pending):
            status, state = request(port, "GET", f"/v1/narrations/{i}")
            if state and state.get("status") in ("done", "failed", "cancelled"):
                states[i] = state
                pending.discard(i)
        if pending:
            time.sleep(0.2)
    if pending:
        sys.exit(f"bench: {len(pending)} narrations did not finish")
    return states


def article(i, sentences=6):
    body = " ".join(f"Sentence {k + 1} of story {i} says the ferry runs every {k + 2} hours."
                    for k in range(sentences))
    return f"Story {i}\n\n{body}\n"


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main(_args):
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    aloud = str(target / "release" / "aloud")
    backend = fake_backend()
    work = Path(tempfile.mkdtemp(prefix="aloud-bench-service-"))
    voices = work / "voices"
    voices.mkdir()
    (voices / "bench-fake.toml").write_text(
        'name = "bench-fake"\nengine = "openai"\nlanguage = "en-US"\nmodel = "tts-1"\nvoice = "alloy"\n'
        f'[options]\nbase_url = "http://127.0.0.1:{backend}"\nformat = "wav"\n')
    env = dict(os.environ, ALOUD_VOICES_DIR=str(voices), OPENAI_API_KEY="bench-not-a-key")
    env.pop("ALOUD_QUEUE_URL", None)
    common = ["--no-cache"]
    procs = []
    try:
        # 1. Submissions from concurrent clients.
        port = free_port()
        out = work / "load"
        serve = subprocess.Popen([aloud, "serve", "--listen", f"127.0.0.1:{port}", "--out-dir", str(out),
                                  "--workers", "2", "--rate-limit", "1000000", *common],
                                 env=env, stderr=subprocess.DEVNULL)
        procs.append(serve)
        wait_healthy(port, serve)

        def submit(i):
            started = time.perf_counter()
            status, body = request(port, "POST", "/v1/narrations",
                                   {"text": f"Short item {i}. It is one line long.", "voice": "bench-fake"})
            return status, body.get("id") if body else None, time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(submit, range(SUBMISSIONS)))
        submitted = time.perf_counter() - started
        accepted = [r for r in results if r[0] == 202]
        ids = {r[1] for r in accepted}
        latencies = [r[2] * 1000 for r in results]
        states = wait_done(port, ids)
        done = sum(1 for s in states.values() if s["status"] == "done")
        all_done = time.perf_counter() - started
        print(f"submissions: {len(accepted)}/{SUBMISSIONS} accepted, {len(ids)} distinct ids, {done} done "
              f"({CLIENTS} clients; all submitted in {submitted:.2f} s, all done in {all_done:.1f} s)")
        print(f"submit latency: p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, "
              f"max {max(latencies):.1f} ms")
        serve.terminate()
        serve.wait()

        # 2 and 3. Throughput with 1 and 2 workers; overhead per job.
        for workers in (1, 2):
            port = free_port()
            out = work / f"workers-{workers}"
            serve = subprocess.Popen([aloud, "serve", "--listen", f"127.0.0.1:{port}", "--out-dir", str(out),
                                      "--workers", "0", "--rate-limit", "1000000", *common],
                                     env=env, stderr=subprocess.DEVNULL)
            procs.append(serve)
            wait_healthy(port, serve)
            for _ in range(workers):
                procs.append(subprocess.Popen([aloud, "worker", "--out-dir", str(out), *common],
                                              env=env, stderr=subprocess.DEVNULL))
            time.sleep(1.0)
            started = time.perf_counter()
            ids = []
            for i in range(ARTICLES):
                status, body = request(port, "POST", "/v1/narrations", {"text": article(i), "voice": "bench-fake"})
                assert status == 202, body
                ids.append(body["id"])
            states = wait_done(port, ids)
            wall = time.perf_counter() - started
            assert all(s["status"] == "done" for s in states.values()), states
            per_minute = ARTICLES / wall * 60
            narration = sum(s["summary"]["wall_seconds"] for s in states.values()) / len(states)
            spans = [(s["finished_ms"] - s["started_ms"]) / 1000 for s in states.values()]
            in_handler = sum(spans) / len(spans) - narration
            per_slot = wall * workers / ARTICLES - narration
            print(f"{workers} worker{'s' if workers > 1 else ''}: {ARTICLES} articles of 7 sentences in {wall:.1f} s = "
                  f"{per_minute:.0f} articles/min (backend latency {LATENCY * 1000:.0f} ms per sentence); "
                  f"per job: narration {narration * 1000:.0f} ms, queue overhead {per_slot * 1000:.1f} ms "
                  f"(of which {in_handler * 1000:.1f} ms in the handler: record, read, open the voice)")
            for p in procs:
                p.terminate()
                p.wait()
            procs.clear()
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)
