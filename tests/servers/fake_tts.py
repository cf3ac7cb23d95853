"""What the fake TTS servers here share: Piper's speech as the reply (16-bit PCM at the rate a
request asks for, bare, in a WAV or encoded by ffmpeg), the HTTP plumbing, the request log and
the command line every one of them takes.

Each server imports it by name: a script run as `python tests/servers/NAME.py` has this
directory on sys.path. piper-tts and numpy are imported only when a voice is loaded, so
`--validate` runs without them.
"""

import argparse
import io
import json
import subprocess
import sys
import threading
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def arguments():
    """The options every fake server takes; each adds its own to the parser returned."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--model")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log")
    parser.add_argument("--validate", action="store_true")
    return parser


def report(problems):
    """The end of `--validate`: the problems as a JSON list, exit status 1 if any."""
    print(json.dumps(problems))
    sys.exit(1 if problems else 0)


class Voice:
    """piper-tts speaking with one model. `serialize` lets one request synthesize at a time."""

    def __init__(self, model, serialize=False):
        import numpy as np
        from piper import PiperVoice, SynthesisConfig

        self.np = np
        self.config = SynthesisConfig
        self.voice = PiperVoice.load(model)
        self.rate = self.voice.config.sample_rate
        self.lock = threading.Lock() if serialize else None

    def samples(self, text, speed=None, deterministic=False):
        """int16 samples at the voice's own rate; `speed` None keeps the voice's own pace.
        `deterministic` turns Piper's noise off, so the same text always gives the same samples
        (a server whose timing marks and audio come from separate requests needs that)."""
        options = {} if speed is None else {"length_scale": 1.0 / speed}
        if deterministic:
            options.update(noise_scale=0.0, noise_w_scale=0.0)
        config = self.config(**options)
        if self.lock:
            with self.lock:
                chunks = [c.audio_int16_array for c in self.voice.synthesize(text, config)]
        else:
            chunks = [c.audio_int16_array for c in self.voice.synthesize(text, config)]
        np = self.np
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)

    def pcm(self, text, speed=1.0, rate=None):
        """s16le bytes at `rate` (linear interpolation from the voice's rate)."""
        np = self.np
        audio = self.samples(text, speed)
        rate = rate or self.rate
        if self.rate != rate and len(audio):
            n = int(round(len(audio) * rate / self.rate))
            x = np.arange(n) * (self.rate / rate)
            audio = np.interp(x, np.arange(len(audio)), audio.astype(np.float32))
            audio = np.clip(np.round(audio), -32768, 32767).astype(np.int16)
        return audio.astype("<i2").tobytes()


def wav(pcm, rate):
    """16-bit mono `pcm` in a RIFF WAV."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return out.getvalue()


def ffmpeg(audio, *args):
    """`audio` through `ffmpeg -v error ARGS...` (input from pipe:0, output to pipe:1)."""
    return subprocess.run(["ffmpeg", "-v", "error", *args], input=audio,
                          capture_output=True, check=True).stdout


class Log:
    """What a server accepted, one JSON line a request, for the test to compare with what it
    sent; nothing without a path."""

    def __init__(self, path, lock):
        self.path = path
        self.lock = lock

    def append(self, entry):
        if self.path:
            with self.lock, open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def reply(self, status, body, content_type, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def listen(port):
    """A server on loopback `port` (0 for any), before it knows its handler."""
    return ThreadingHTTPServer(("127.0.0.1", port), None)


def serve(server, handler):
    """Serves `handler` on `server` until killed, after saying its port."""
    server.RequestHandlerClass = handler
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()
