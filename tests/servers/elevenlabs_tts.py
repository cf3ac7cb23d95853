#!/usr/bin/env python3
"""A small ElevenLabs-compatible text-to-speech server for aloud's tests, wrapping piper-tts:

    POST /v1/text-to-speech/{voice_id}?output_format=pcm_RATE        -> raw s16le mono PCM
    POST /v1/text-to-speech/{voice_id}/with-timestamps?output_format=...
        -> {"audio_base64", "alignment": {characters, character_start_times_seconds,
            character_end_times_seconds}, "normalized_alignment": {...}}

Bodies are checked as the real API's pydantic models check them: known fields with their
types, unknown fields refused with 422 and pydantic's `detail` list. The key comes in
`xi-api-key`. Voices: `joe` speaks; `busy` answers 429 too_many_concurrent_requests to the
first request for each text and speaks on the next; any other voice is 404 voice_not_found.
A key given as --exhausted-key gets 401 quota_exceeded. Every request that speaks is logged
as one JSON line ({voice, text, previous_text, next_text, ...}) to --log, so a test can check
the stitching context it was sent. Character times are spread over the clip in proportion.

    elevenlabs_tts.py --model VOICE.onnx --port PORT --key KEY --log FILE [--exhausted-key K]
    elevenlabs_tts.py --validate < body.json     # prints the body's problems, exit 1 if any
"""

import base64
import json
import sys
import threading
from urllib.parse import parse_qs, urlsplit

import fake_tts
import jsonschema

RATES = {"pcm_16000": 16000, "pcm_22050": 22050, "pcm_24000": 24000, "pcm_44100": 44100}
MODELS = {"eleven_multilingual_v2", "eleven_flash_v2_5", "eleven_turbo_v2_5", "eleven_v3",
          "eleven_flash_v2", "eleven_turbo_v2", "eleven_monolingual_v1"}
VOICES = {"joe", "busy"}

NUMBER = {"type": ["number", "null"]}
STRING = {"type": ["string", "null"]}
BOOL = {"type": ["boolean", "null"]}

# The body of POST /v1/text-to-speech/{voice_id}[/with-timestamps], as the API documents it.
BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {
        "text": {"type": "string"},
        "model_id": {"type": "string"},
        "language_code": STRING,
        "voice_settings": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {
                "stability": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                "similarity_boost": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                "style": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                "use_speaker_boost": BOOL,
                "speed": {"type": ["number", "null"], "minimum": 0.7, "maximum": 1.2},
            },
        },
        "pronunciation_dictionary_locators": {"type": ["array", "null"], "maxItems": 3},
        "seed": {"type": ["integer", "null"], "minimum": 0, "maximum": 4294967295},
        "previous_text": STRING,
        "next_text": STRING,
        "previous_request_ids": {"type": ["array", "null"], "items": {"type": "string"},
                                 "maxItems": 3},
        "next_request_ids": {"type": ["array", "null"], "items": {"type": "string"},
                             "maxItems": 3},
        "use_pvc_as_ivc": {"type": "boolean"},
        "apply_text_normalization": {"enum": ["auto", "on", "off"]},
        "apply_language_text_normalization": {"type": "boolean"},
    },
}


def problems(body):
    """pydantic-style entries: {type, loc, msg}."""
    found = []
    for e in jsonschema.Draft202012Validator(BODY).iter_errors(body):
        loc = ["body", *e.absolute_path]
        if e.validator == "additionalProperties":
            for extra in sorted(set(e.instance) - set(e.schema.get("properties", {}))):
                found.append({"type": "extra_forbidden", "loc": [*loc, extra],
                              "msg": "Extra inputs are not permitted"})
        elif e.validator == "required":
            found.append({"type": "missing", "loc": loc, "msg": e.message})
        else:
            found.append({"type": e.validator, "loc": loc, "msg": e.message})
    if isinstance(body, dict) and isinstance(body.get("model_id"), str) \
            and body["model_id"] not in MODELS:
        found.append({"type": "value_error", "loc": ["body", "model_id"],
                      "msg": f"unknown model {body['model_id']!r}"})
    return found


def main():
    parser = fake_tts.arguments()
    parser.add_argument("--key")
    parser.add_argument("--exhausted-key")
    args = parser.parse_args()

    if args.validate:
        fake_tts.report([f"{'.'.join(map(str, p['loc']))}: {p['msg']}"
                         for p in problems(json.load(sys.stdin))])

    voice = fake_tts.Voice(args.model, serialize=True)
    lock = threading.Lock()
    log = fake_tts.Log(args.log, lock)
    busy_seen = set()

    def alignment(text, seconds):
        # Each character gets a share of the clip; spaces a smaller one, as they are heard less.
        weights = [0.3 if c.isspace() else 1.0 for c in text]
        total = sum(weights) or 1.0
        starts, ends, t = [], [], 0.0
        for w in weights:
            starts.append(round(t, 4))
            t += seconds * w / total
            ends.append(round(t, 4))
        return {"characters": list(text), "character_start_times_seconds": starts,
                "character_end_times_seconds": ends}

    class Handler(fake_tts.Handler):
        def detail(self, status, detail):
            self.reply(status, json.dumps({"detail": detail}).encode(), "application/json")

        def do_GET(self):
            if self.path == "/v1/models":
                self.reply(200, json.dumps([{"model_id": m} for m in sorted(MODELS)]).encode(),
                           "application/json")
            else:
                self.detail(404, {"status": "not_found", "message": f"no route {self.path}"})

        def do_POST(self):
            raw = self.body()
            url = urlsplit(self.path)
            parts = url.path.split("/")
            # ['', 'v1', 'text-to-speech', VOICE] or [..., VOICE, 'with-timestamps']
            if parts[:3] != ["", "v1", "text-to-speech"] or len(parts) not in (4, 5) \
                    or (len(parts) == 5 and parts[4] != "with-timestamps"):
                return self.detail(404, {"status": "not_found", "message": f"no route {url.path}"})
            voice_id = parts[3]
            timestamps = len(parts) == 5
            key = self.headers.get("xi-api-key")
            if args.exhausted_key is not None and key == args.exhausted_key:
                return self.detail(401, {"status": "quota_exceeded", "message":
                                         "This request exceeds your quota of 10000. You have 3 credits remaining."})
            if key != args.key:
                return self.detail(401, {"status": "invalid_api_key",
                                         "message": "Invalid API key"})
            query = parse_qs(url.query)
            fmt = query.get("output_format", ["mp3_44100_128"])[0]
            if fmt not in RATES:
                return self.detail(422, [{"type": "enum", "loc": ["query", "output_format"],
                                          "msg": f"{fmt} is not served here"}])
            try:
                body = json.loads(raw)
            except ValueError:
                return self.detail(400, {"status": "invalid_json", "message": "body is not JSON"})
            found = problems(body)
            if found:
                return self.detail(422, found)
            if voice_id not in VOICES:
                return self.detail(404, {"status": "voice_not_found", "message":
                                         f"A voice with the voice_id {voice_id} was not found."})
            if voice_id == "busy":
                with lock:
                    first = body["text"] not in busy_seen
                    busy_seen.add(body["text"])
                if first:
                    return self.detail(429, {"status": "too_many_concurrent_requests", "message":
                                             "Too many concurrent requests for your plan."})
            speed = (body.get("voice_settings") or {}).get("speed") or 1.0
            rate = RATES[fmt]
            pcm = voice.pcm(body["text"], float(speed), rate)
            log.append({"voice": voice_id, "timestamps": timestamps, "format": fmt,
                        "text": body["text"], "previous_text": body.get("previous_text"),
                        "next_text": body.get("next_text"), "model_id": body.get("model_id")})
            if not timestamps:
                return self.reply(200, pcm, "audio/pcm")
            seconds = len(pcm) / 2 / rate
            answer = {"audio_base64": base64.b64encode(pcm).decode(),
                      "alignment": alignment(body["text"], seconds),
                      "normalized_alignment": alignment(" " + body["text"] + " ", seconds)}
            self.reply(200, json.dumps(answer).encode(), "application/json")

    fake_tts.serve(fake_tts.listen(args.port), Handler)


if __name__ == "__main__":
    main()
