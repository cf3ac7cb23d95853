#!/usr/bin/env python3
"""A small Azure AI Speech text-to-speech server for aloud's tests: POST /cognitiveservices/v1
wrapping piper-tts, checking what Azure's REST API checks.

- `Ocp-Apim-Subscription-Key` must equal --key (else 401, as Azure answers a wrong key);
- `Content-Type` must be application/ssml+xml and `X-Microsoft-OutputFormat` one of the
  format names Azure publishes (else 400);
- the body must be SSML that xml.etree parses: a `<speak>` in the W3C synthesis namespace
  with `version` and `xml:lang`, holding exactly one `<voice name>` this server knows
  (unknown voice -> 400); `<prosody rate>` and `<phoneme>` are understood, other elements
  are refused so that injected markup could not pass unnoticed;
- the text content is synthesized with piper-tts and returned as RIFF WAV (or headerless PCM
  for raw-* formats) at the format's rate, 16-bit mono.

--fail-429 N answers the first N synthesis requests with 429 and Retry-After: 1.
Every request's text content (XML-decoded) is appended as one JSON line to --log, so a test
can compare what arrived with what it sent.

    azure_tts.py --model VOICE.onnx --port PORT --key KEY [--fail-429 N] [--log FILE]
"""

import json
import re
import threading
import xml.etree.ElementTree as ET

import fake_tts

SSML_NS = "http://www.w3.org/2001/10/synthesis"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# Azure's published names for X-Microsoft-OutputFormat (Speech service REST API reference,
# "Audio outputs"). The server synthesizes the PCM ones; the rest are accepted names it does
# not encode here (answered 400 "not served by this test server", never silently).
PUBLISHED_FORMATS = {
    "amr-wb-16000hz", "audio-16khz-16bit-32kbps-mono-opus", "audio-16khz-32kbitrate-mono-mp3",
    "audio-16khz-64kbitrate-mono-mp3", "audio-16khz-128kbitrate-mono-mp3",
    "audio-24khz-16bit-24kbps-mono-opus", "audio-24khz-16bit-48kbps-mono-opus",
    "audio-24khz-48kbitrate-mono-mp3", "audio-24khz-96kbitrate-mono-mp3",
    "audio-24khz-160kbitrate-mono-mp3", "audio-48khz-96kbitrate-mono-mp3",
    "audio-48khz-192kbitrate-mono-mp3", "g722-16khz-64kbps", "ogg-16khz-16bit-mono-opus",
    "ogg-24khz-16bit-mono-opus", "ogg-48khz-16bit-mono-opus", "raw-8khz-8bit-mono-alaw",
    "raw-8khz-8bit-mono-mulaw", "raw-8khz-16bit-mono-pcm", "raw-16khz-16bit-mono-pcm",
    "raw-16khz-16bit-mono-truesilk", "raw-22050hz-16bit-mono-pcm", "raw-24khz-16bit-mono-pcm",
    "raw-24khz-16bit-mono-truesilk", "raw-44100hz-16bit-mono-pcm", "raw-48khz-16bit-mono-pcm",
    "riff-8khz-8bit-mono-alaw", "riff-8khz-8bit-mono-mulaw", "riff-8khz-16bit-mono-pcm",
    "riff-16khz-16bit-mono-pcm", "riff-22050hz-16bit-mono-pcm", "riff-24khz-16bit-mono-pcm",
    "riff-44100hz-16bit-mono-pcm", "riff-48khz-16bit-mono-pcm", "webm-16khz-16bit-mono-opus",
    "webm-24khz-16bit-24kbps-mono-opus", "webm-24khz-16bit-mono-opus",
}
PCM_FORMAT = re.compile(r"^(riff|raw)-(\d+)(khz|hz)-16bit-mono-pcm$")

# A few of Azure's neural voices; anything else is "unknown" as it would be to Azure.
VOICES = {"en-US-JennyNeural", "en-US-GuyNeural", "en-US-AriaNeural", "en-GB-SoniaNeural"}


class BadSsml(Exception):
    pass


def parse_ssml(body):
    """The voice, speed and text of an SSML document, or BadSsml saying what is wrong."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise BadSsml(f"SSML is not well-formed XML: {e}")
    if root.tag != f"{{{SSML_NS}}}speak":
        raise BadSsml(f"root element is {root.tag}, not speak in {SSML_NS}")
    if root.get("version") != "1.0":
        raise BadSsml("speak needs version=\"1.0\"")
    if not root.get(XML_LANG):
        raise BadSsml("speak needs xml:lang")
    voices = list(root)
    if len(voices) != 1 or voices[0].tag != f"{{{SSML_NS}}}voice":
        raise BadSsml("speak must hold exactly one voice element")
    if (root.text or "").strip() or (voices[0].tail or "").strip():
        raise BadSsml("text outside the voice element")
    voice = voices[0]
    name = voice.get("name")
    speed = 1.0
    parts = [voice.text or ""]

    def walk(element):
        nonlocal speed
        for child in element:
            tag = child.tag.removeprefix(f"{{{SSML_NS}}}")
            if tag == "prosody":
                rate = child.get("rate", "")
                m = re.fullmatch(r"([+-]\d+(?:\.\d+)?)%", rate)
                if not m:
                    raise BadSsml(f"prosody rate {rate!r} is not a relative percentage")
                speed = 1.0 + float(m.group(1)) / 100.0
                parts.append(child.text or "")
                walk(child)
            elif tag == "phoneme":
                if child.get("alphabet") not in ("ipa", "sapi", "ups", "x-sampa") or not child.get("ph"):
                    raise BadSsml("phoneme needs alphabet and ph")
                if len(child):
                    raise BadSsml("phoneme may hold only text")
                parts.append(child.text or "")
            else:
                raise BadSsml(f"element {tag} is not expected from aloud")
            parts.append(child.tail or "")

    walk(voice)
    return name, speed, "".join(parts)


def main():
    parser = fake_tts.arguments()
    parser.add_argument("--key", required=True)
    parser.add_argument("--fail-429", type=int, default=0)
    args = parser.parse_args()

    voice = fake_tts.Voice(args.model)
    lock = threading.Lock()
    log = fake_tts.Log(args.log, lock)
    state = {"to_fail": args.fail_429, "requests": 0}

    class Handler(fake_tts.Handler):
        def fail(self, status, message, extra=()):
            self.reply(status, message.encode(), "text/plain; charset=utf-8", extra)

        def do_GET(self):
            if self.path == "/health":
                return self.reply(200, b"ok", "text/plain")
            if self.path == "/stats":
                with lock:
                    return self.reply(200, json.dumps(state).encode(), "application/json")
            self.fail(404, "not found")

        def do_POST(self):
            raw = self.body()
            with lock:
                state["requests"] += 1
            if self.path != "/cognitiveservices/v1":
                return self.fail(404, f"no route {self.path}")
            if self.headers.get("Ocp-Apim-Subscription-Key") != args.key:
                # Azure's answer to a missing or wrong key: 401, JSON error.
                body = {"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}
                return self.reply(401, json.dumps(body).encode(), "application/json")
            if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/ssml+xml":
                return self.fail(400, "Content-Type must be application/ssml+xml")
            fmt = self.headers.get("X-Microsoft-OutputFormat", "")
            if fmt not in PUBLISHED_FORMATS:
                return self.fail(400, f"unsupported output format {fmt!r}")
            m = PCM_FORMAT.match(fmt)
            if not m:
                return self.fail(400, f"{fmt} is a real format but not served by this test server")
            with lock:
                if state["to_fail"] > 0:
                    state["to_fail"] -= 1
                    return self.fail(429, "Too many requests", [("Retry-After", "1")])
            try:
                name, speed, text = parse_ssml(raw)
            except BadSsml as e:
                return self.fail(400, str(e))
            if name not in VOICES:
                return self.fail(400, f"Unsupported voice {name}.")
            log.append({"voice": name, "speed": speed, "text": text})
            rate = int(m.group(2)) * (1000 if m.group(3) == "khz" else 1)
            pcm = voice.pcm(text, speed, rate)
            if m.group(1) == "raw":
                return self.reply(200, pcm, "audio/x-wav")
            self.reply(200, fake_tts.wav(pcm, rate), "audio/x-wav")

    fake_tts.serve(fake_tts.listen(args.port), Handler)


if __name__ == "__main__":
    main()
