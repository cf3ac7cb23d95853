#!/usr/bin/env python3
"""A small Amazon Polly for aloud's tests: SynthesizeSpeech (POST /v1/speech) wrapping piper-tts,
checking requests the way Polly does, from botocore's own model of the service.

- The body is validated against the SynthesizeSpeech input shape of botocore's Polly service
  model (botocore/data/polly/2016-06-10/service-2.json) with botocore.validate.ParamValidator,
  plus the enums of that model, which ParamValidator leaves to the service: unknown members,
  wrong types, missing required members and values outside an enum are a 400
  ValidationException, as from Polly.
- The SigV4 signature is recomputed with botocore.auth.SigV4Auth over the request as received
  (the headers it names in SignedHeaders, the path, the body) with the credentials given on
  the command line: another access key is 403 UnrecognizedClientException, another signature
  403 InvalidSignatureException, a stale X-Amz-Date 403 InvalidSignatureException.
- TextType ssml must parse with xml.etree as a <speak> document holding only elements Polly
  supports (else 400 InvalidSsmlException); text is limited as Polly limits it (3000 billed
  characters, 6000 in all: 400 TextLengthExceededException).
- OutputFormat pcm: piper-tts's speech, band-limited resampled to SampleRate, s16le mono;
  mp3 and ogg_vorbis: the same encoded by ffmpeg.
  OutputFormat json with SpeechMarkTypes [word]: one JSON line per word with byte offsets into
  the Text as sent (found by this server's own scan of the raw SSML) and times spread over the
  speech in proportion to the words' lengths.
- --throttle N answers the first N SynthesizeSpeech requests with HTTP 400 ThrottlingException,
  as Polly throttles.

Every accepted request's decoded text and output format are appended as JSON lines to --log.
GET /stats tells how many requests arrived.

    polly_tts.py --model VOICE.onnx --port PORT --access-key ID --secret-key KEY
                 [--region us-east-1] [--throttle N] [--log FILE]
    polly_tts.py --validate < body.json   # prints the problems as a JSON list, exit 1 if any
"""

import calendar
import hashlib
import json
import re
import sys
import threading
import time
import xml.etree.ElementTree as ET

import botocore.loaders
import botocore.model
import botocore.validate
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import fake_tts

# SSML elements Polly supports (Amazon Polly developer guide, "Supported SSML tags").
POLLY_TAGS = {"speak", "break", "emphasis", "lang", "mark", "p", "phoneme", "prosody", "s",
              "say-as", "sub", "w", "voice"}
ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'"}
EDGE_PUNCTUATION = ".,;:!?\"'()[]{}«»“”‘’…—–-"


def synthesize_shape():
    loader = botocore.loaders.Loader()
    model = botocore.model.ServiceModel(loader.load_service_model("polly", "service-2"), "polly")
    operation = model.operation_model("SynthesizeSpeech")
    assert operation.http["requestUri"] == "/v1/speech" and operation.http["method"] == "POST"
    return operation.input_shape


def enum_problems(shape, value, path):
    """Values outside the model's enums (ParamValidator leaves these to the service)."""
    found = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                found += enum_problems(member, value[name], f"{path}.{name}")
    elif shape.type_name == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            found += enum_problems(shape.member, item, f"{path}[{i}]")
    elif shape.type_name == "string" and getattr(shape, "enum", None) and isinstance(value, str):
        if value not in shape.enum:
            found.append(f"{path}: {value!r} is not one of the {len(shape.enum)} values of {shape.name}")
    return found


def body_problems(shape, body):
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    report = botocore.validate.ParamValidator().validate(body, shape)
    found = [line.strip() for line in report.generate_report().splitlines() if line.strip()] \
        if report.has_errors() else []
    found += enum_problems(shape, body, "input")
    if body.get("OutputFormat") == "json" and not body.get("SpeechMarkTypes"):
        found.append("input.SpeechMarkTypes: required when OutputFormat is json")
    if body.get("OutputFormat") not in (None, "json") and body.get("SpeechMarkTypes"):
        found.append("input.SpeechMarkTypes: only with OutputFormat json")
    rate = body.get("SampleRate")
    if isinstance(rate, str):
        allowed = ("8000", "16000") if body.get("OutputFormat") == "pcm" else ("8000", "16000", "22050", "24000")
        if rate not in allowed:
            found.append(f"input.SampleRate: {rate!r} is not valid for {body.get('OutputFormat')}")
    return found


class InvalidSsml(Exception):
    pass


def ssml_text(text):
    """The text content of Polly SSML, checked as Polly checks it."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise InvalidSsml(f"Invalid SSML request: {e}")
    if root.tag != "speak":
        raise InvalidSsml("Invalid SSML request: the root element must be speak")
    parts = []

    def walk(element):
        tag = element.tag.split("}")[-1]
        if tag not in POLLY_TAGS:
            raise InvalidSsml(f"Unsupported SSML tag: {tag}")
        if tag == "phoneme" and (element.get("alphabet") not in ("ipa", "x-sampa") or not element.get("ph")):
            raise InvalidSsml("phoneme needs alphabet ipa or x-sampa and ph")
        parts.append(element.text or "")
        for child in element:
            walk(child)
            parts.append(child.tail or "")

    walk(root)
    return "".join(parts)


def text_chars(raw):
    """(character, first byte, end byte) for each character of text content in raw SSML,
    by a scan of the raw string (independent of how aloud builds it)."""
    out = []
    i = 0
    byte = 0
    while i < len(raw):
        c = raw[i]
        if c == "<":
            close = raw.index(">", i)
            byte += len(raw[i:close + 1].encode())
            i = close + 1
            continue
        if c == "&":
            semi = raw.index(";", i)
            entity = raw[i:semi + 1]
            width = len(entity.encode())
            out.append((ENTITIES.get(entity, entity), byte, byte + width))
            byte += width
            i = semi + 1
            continue
        width = len(c.encode())
        out.append((c, byte, byte + width))
        byte += width
        i += 1
    return out


def word_spans(raw):
    """Polly-like words of raw SSML: whitespace-separated tokens with edge punctuation
    trimmed, as (value, start byte, end byte) into the raw text."""
    chars = text_chars(raw)
    words = []
    token = []
    for item in chars + [(" ", None, None)]:
        if item[0].isspace():
            while token and token[0][0] in EDGE_PUNCTUATION:
                token.pop(0)
            while token and token[-1][0] in EDGE_PUNCTUATION:
                token.pop()
            if token:
                words.append(("".join(c for c, _, _ in token), token[0][1], token[-1][2]))
            token = []
        else:
            token.append(item)
    return words


def main():
    parser = fake_tts.arguments()
    parser.add_argument("--access-key")
    parser.add_argument("--secret-key")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--throttle", type=int, default=0)
    args = parser.parse_args()
    shape = synthesize_shape()

    if args.validate:
        body = json.load(sys.stdin)
        found = body_problems(shape, body)
        if not found and body.get("TextType") == "ssml":
            try:
                ssml_text(body["Text"])
            except InvalidSsml as e:
                found.append(f"input.Text: {e}")
        fake_tts.report(found)

    import numpy as np

    voice = fake_tts.Voice(args.model)
    lock = threading.Lock()
    log = fake_tts.Log(args.log, lock)
    state = {"requests": 0, "to_throttle": args.throttle}

    def speech(text, rate):
        # Polly answers the marks and the audio in separate requests, and its marks fit its
        # audio: both must come from the same samples.
        audio = voice.samples(text, deterministic=True)
        src = voice.rate
        if src != rate and len(audio):
            # Band-limited resampling: the spectrum cut at the new Nyquist frequency, so
            # nothing above it folds back (plain interpolation would alias).
            n = int(round(len(audio) * rate / src))
            spectrum = np.fft.rfft(audio.astype(np.float64))
            keep = n // 2 + 1
            spectrum = spectrum[:keep] if keep <= len(spectrum) else np.pad(spectrum, (0, keep - len(spectrum)))
            audio = np.fft.irfft(spectrum, n) * (n / len(audio))
            audio = np.clip(np.round(audio), -32768, 32767).astype(np.int16)
        return audio

    def marks(raw, text, rate):
        audio = speech(text, rate)
        seconds = len(audio) / rate
        loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > 1000)
        first = loud[0] / rate if len(loud) else 0.0
        last = (loud[-1] + 1) / rate if len(loud) else seconds
        words = word_spans(raw)
        weights = [max(len(w[0]), 1) for w in words]
        total = sum(weights) or 1
        lines = []
        elapsed = 0
        for (value, start, end), weight in zip(words, weights):
            t = first + (last - first) * elapsed / total
            lines.append(json.dumps({"time": int(round(t * 1000)), "type": "word",
                                     "start": start, "end": end, "value": value}))
            elapsed += weight
        return ("\n".join(lines) + "\n").encode()

    class Handler(fake_tts.Handler):
        def reply(self, status, body, content_type, extra=()):
            request_id = ("x-amzn-RequestId", hashlib.sha1(body[:64]).hexdigest()[:16])
            super().reply(status, body, content_type, [request_id, *extra])

        def error(self, status, kind, message):
            body = json.dumps({"message": message}).encode()
            self.reply(status, body, "application/json",
                       [("x-amzn-ErrorType", f"{kind}:http://internal.amazon.com/coral/com.amazonaws.polly/")])

        def do_GET(self):
            if self.path == "/health":
                return self.reply(200, b"ok", "text/plain")
            if self.path == "/stats":
                with lock:
                    return self.reply(200, json.dumps(state).encode(), "application/json")
            self.error(404, "UnknownOperationException", "no such operation")

        def signature_problem(self, raw):
            auth = self.headers.get("Authorization", "")
            m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                             r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})", auth)
            if not m:
                return "MissingAuthenticationTokenException", "Missing Authentication Token"
            key, day, region, service, signed, signature = m.groups()
            if key != args.access_key:
                return "UnrecognizedClientException", "The security token included in the request is invalid."
            amz_date = self.headers.get("X-Amz-Date", "")
            names = signed.split(";")
            if "host" not in names or "x-amz-date" not in names or not amz_date.startswith(day):
                return "InvalidSignatureException", "host and x-amz-date must be signed, dated as the scope"
            if region != args.region or service != "polly":
                return "InvalidSignatureException", f"Credential should be scoped to a valid region ({args.region}) and service polly"
            try:
                when = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
            except ValueError:
                return "InvalidSignatureException", "X-Amz-Date is not an ISO 8601 basic timestamp"
            if abs(time.time() - when) > 300:
                return "InvalidSignatureException", "Signature expired"
            headers = {}
            for name in names:
                value = self.headers.get(name)
                if value is None:
                    return "InvalidSignatureException", f"signed header {name} is missing"
                headers[name] = value
            request = AWSRequest(method=self.command, url=f"http://{self.headers['Host']}{self.path}",
                                 data=raw, headers=headers)
            request.context["timestamp"] = amz_date
            signer = SigV4Auth(Credentials(args.access_key, args.secret_key), "polly", args.region)
            canonical = signer.canonical_request(request)
            if signer.signed_headers(signer.headers_to_sign(request)) != signed:
                return "InvalidSignatureException", "SignedHeaders do not match the request"
            expected = signer.signature(signer.string_to_sign(request, canonical), request)
            if expected != signature:
                return ("InvalidSignatureException",
                        "The request signature we calculated does not match the signature you provided. "
                        "Check your AWS Secret Access Key and signing method.")
            return None

        def do_POST(self):
            raw = self.body()
            with lock:
                state["requests"] += 1
            if self.path != "/v1/speech":
                return self.error(404, "UnknownOperationException", f"no operation at {self.path}")
            problem = self.signature_problem(raw)
            if problem:
                return self.error(403, *problem)
            with lock:
                if state["to_throttle"] > 0:
                    state["to_throttle"] -= 1
                    return self.error(400, "ThrottlingException", "Rate exceeded")
            try:
                body = json.loads(raw)
            except ValueError:
                return self.error(400, "SerializationException", "the body is not JSON")
            found = body_problems(shape, body)
            if found:
                return self.error(400, "ValidationException", "; ".join(found))
            raw_text = body["Text"]
            if body.get("TextType", "text") == "ssml":
                try:
                    text = ssml_text(raw_text)
                except InvalidSsml as e:
                    return self.error(400, "InvalidSsmlException", str(e))
            else:
                text = raw_text
            if len(text) > 3000 or len(raw_text) > 6000:
                return self.error(400, "TextLengthExceededException",
                                  f"Maximum text length has been exceeded ({len(text)} billed, {len(raw_text)} total)")
            if body.get("LexiconNames"):
                return self.error(400, "LexiconNotFoundException",
                                  f"Lexicon not found: {body['LexiconNames'][0]}")
            log.append({"format": body["OutputFormat"], "text": text, "ssml": raw_text,
                        "voice": body["VoiceId"]})
            rate = int(body.get("SampleRate", "16000"))
            billed = [("x-amzn-RequestCharacters", str(len(text)))]
            if body["OutputFormat"] == "json":
                if body["SpeechMarkTypes"] != ["word"]:
                    return self.error(400, "ValidationException", "this server marks words only")
                return self.reply(200, marks(raw_text, text, 16000), "application/x-json-stream", billed)
            fmt = body["OutputFormat"]
            if fmt not in ("pcm", "mp3", "ogg_vorbis"):
                return self.error(400, "ValidationException", f"{fmt} is valid but not served by this test server")
            pcm = speech(text, rate).astype("<i2").tobytes()
            if fmt == "pcm":
                return self.reply(200, pcm, "audio/pcm", billed)
            # As Polly does, compressed formats come from an encoder (ffmpeg here).
            codec = ["-f", "mp3", "-c:a", "libmp3lame", "-b:a", "48k"] if fmt == "mp3" \
                else ["-f", "ogg", "-c:a", "libvorbis", "-q:a", "4"]
            encoded = fake_tts.ffmpeg(pcm, "-f", "s16le", "-ar", str(rate), "-ac", "1",
                                      "-i", "pipe:0", *codec, "pipe:1")
            self.reply(200, encoded, "audio/mpeg" if fmt == "mp3" else "audio/ogg", billed)

    fake_tts.serve(fake_tts.listen(args.port), Handler)


if __name__ == "__main__":
    main()
