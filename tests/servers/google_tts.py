#!/usr/bin/env python3
"""A small Google Cloud Text-to-Speech server for aloud's tests, wrapping piper-tts:
POST /v1beta1/text:synthesize, and an OAuth token endpoint for Application Default Credentials.

Every body is validated against the SynthesizeSpeechRequest schema of Google's own discovery
document (googleapiclient/discovery_cache/documents/texttospeech.v1beta1.json): $refs walked,
types and enums checked, unknown properties refused, fields documented "Required." required.
The SSML must be well-formed XML (xml.etree) with a <speak> root holding only text, <mark>
and <phoneme>; its text content is what piper says. The answer is Google's: LINEAR16 as a WAV
(or MP3 through ffmpeg) in base64, and a timepoint for every mark, placed by character share.

Auth: `X-Goog-Api-Key` equal to --key (a wrong one is 400 API_KEY_INVALID, as Google answers),
or `Authorization: Bearer` with --token or a token this server issued (else 401
UNAUTHENTICATED). With --credentials-dir it writes service_account.json (a fresh RSA key) and
authorized_user.json whose token_uri is this server's /token, which checks the RS256 JWT or the
refresh token and issues tokens (`?lifetime=S` in the token_uri sets their expires_in).
Voices: en-US-Neural2-F, en-US-Neural2-D, de-DE-Neural2-B speak; en-US-Busy-A answers 429
RESOURCE_EXHAUSTED to the first request for each text; others are INVALID_ARGUMENT.
Each spoken request is logged as a JSON line to --log; GET /stats counts requests and tokens.

    google_tts.py --model VOICE.onnx --port PORT [--key K] [--token T] [--credentials-dir D] [--log F]
    google_tts.py --validate < body.json     # prints the body's problems, exit 1 if any
"""

import base64
import json
import os
import secrets
import sys
import threading
import time
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import fake_tts

import googleapiclient
import jsonschema

VOICES = {"en-US-Neural2-F", "en-US-Neural2-D", "de-DE-Neural2-B", "en-US-Busy-A"}
SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def discovery():
    path = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache",
                        "documents", "texttospeech.v1beta1.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def to_json_schema(prop):
    """One discovery-document schema as JSON Schema."""
    if "$ref" in prop:
        return {"$ref": f"#/definitions/{prop['$ref']}"}
    kind = prop.get("type")
    out = {}
    if kind == "object":
        out["type"] = "object"
        if "properties" in prop:
            out["properties"] = {k: to_json_schema(v) for k, v in prop["properties"].items()}
            out["additionalProperties"] = False
            required = [k for k, v in prop["properties"].items()
                        if v.get("description", "").startswith("Required.")]
            if required:
                out["required"] = required
        elif "additionalProperties" in prop:
            out["additionalProperties"] = to_json_schema(prop["additionalProperties"])
    elif kind == "array":
        out["type"] = "array"
        out["items"] = to_json_schema(prop.get("items", {}))
    elif kind == "integer":
        out["type"] = "integer"
        if prop.get("format") == "int32":
            out["minimum"], out["maximum"] = -2**31, 2**31 - 1
    elif kind in ("number", "boolean", "string"):
        out["type"] = kind
    elif kind == "any" or kind is None:
        pass
    if "enum" in prop:
        out["enum"] = prop["enum"]
    return out


def request_validator():
    doc = discovery()
    definitions = {name: to_json_schema(schema) for name, schema in doc["schemas"].items()}
    method = doc["resources"]["text"]["methods"]["synthesize"]
    schema = {"$ref": f"#/definitions/{method['request']['$ref']}", "definitions": definitions}
    return jsonschema.Draft7Validator(schema)


def schema_problems(validator, body):
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
            for e in validator.iter_errors(body)]


def parse_ssml(ssml):
    """(text content, [(mark name, character offset)], [(ipa, text)]) or raises ValueError."""
    try:
        root = ET.fromstring(ssml)
    except ET.ParseError as e:
        raise ValueError(f"SSML is not well-formed: {e}")
    if root.tag != "speak" or root.attrib:
        raise ValueError("SSML must be one <speak> element without attributes")
    text, marks, phonemes = [], [], []

    def walk(element, depth):
        if element.text:
            text.append(element.text)
        for child in element:
            length = sum(map(len, text))
            if child.tag == "mark":
                if set(child.attrib) != {"name"} or len(child) or child.text:
                    raise ValueError("<mark> takes only a name and no content")
                marks.append((child.attrib["name"], length))
            elif child.tag == "phoneme":
                if set(child.attrib) != {"alphabet", "ph"} or child.attrib["alphabet"] != "ipa":
                    raise ValueError(f"unexpected <phoneme> attributes {child.attrib}")
                if len(child):
                    raise ValueError("<phoneme> holds text only")
                phonemes.append((child.attrib["ph"], child.text or ""))
                if child.text:
                    text.append(child.text)
            else:
                raise ValueError(f"unexpected element <{child.tag}>")
            if child.tail:
                text.append(child.tail)

    walk(root, 0)
    names = [name for name, _ in marks]
    if names != [f"w{i}" for i in range(len(names))]:
        raise ValueError(f"marks are not w0, w1, ... in order: {names}")
    return "".join(text), marks, phonemes


def body_problems(validator, body):
    found = schema_problems(validator, body)
    if found:
        return found
    for field in ("input", "voice", "audioConfig"):
        if field not in body:
            found.append(f"{field}: required")
    inp = body.get("input", {})
    if sum(k in inp for k in ("text", "ssml", "markup", "multiSpeakerMarkup")) != 1:
        found.append("input: exactly one of text or ssml")
    if "ssml" in inp:
        if len(inp["ssml"].encode()) > 5000:
            found.append("input.ssml: longer than 5000 bytes")
        try:
            parse_ssml(inp["ssml"])
        except ValueError as e:
            found.append(f"input.ssml: {e}")
    rate = body.get("audioConfig", {}).get("speakingRate")
    if rate is not None and rate != 0 and not 0.25 <= rate <= 2.0:
        found.append("audioConfig.speakingRate: outside [0.25, 2.0]")
    return found


def main():
    parser = fake_tts.arguments()
    parser.add_argument("--key")
    parser.add_argument("--token")
    parser.add_argument("--credentials-dir")
    args = parser.parse_args()
    validator = request_validator()

    if args.validate:
        fake_tts.report(body_problems(validator, json.load(sys.stdin)))

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    voice = fake_tts.Voice(args.model, serialize=True)
    lock = threading.Lock()
    log = fake_tts.Log(args.log, lock)
    state = {"synth": 0, "tokens": 0, "busy": set(), "issued": set()}

    server = fake_tts.listen(args.port)
    port = server.server_address[1]
    token_uri = f"http://127.0.0.1:{port}/token"
    sa_email = "aloud-test@aloud-tests.iam.gserviceaccount.com"
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    user = {"client_id": "aloud-test.apps.googleusercontent.com",
            "client_secret": secrets.token_urlsafe(16), "refresh_token": secrets.token_urlsafe(32)}
    if args.credentials_dir:
        pem = private_key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
        files = {
            "service_account.json": {
                "type": "service_account", "project_id": "aloud-tests",
                "private_key_id": "0123abcd", "private_key": pem, "client_email": sa_email,
                "client_id": "1234567890", "token_uri": token_uri,
                "auth_uri": "https://accounts.google.com/o/oauth2/auth"},
            "service_account_short.json": {
                "type": "service_account", "private_key_id": "0123abcd", "private_key": pem,
                "client_email": sa_email, "token_uri": token_uri + "?lifetime=30"},
            "authorized_user.json": {"type": "authorized_user", **user,
                                     "quota_project_id": "aloud-quota-from-file",
                                     "token_uri": token_uri},
        }
        for name, content in files.items():
            with open(os.path.join(args.credentials_dir, name), "w", encoding="utf-8") as f:
                json.dump(content, f, indent=2)

    def b64url_decode(part):
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    def check_jwt(assertion, audience):
        try:
            head, claims, signature = assertion.split(".")
            header = json.loads(b64url_decode(head))
            body = json.loads(b64url_decode(claims))
            if header.get("alg") != "RS256" or header.get("typ") != "JWT":
                return f"bad header {header}"
            private_key.public_key().verify(b64url_decode(signature),
                                            f"{head}.{claims}".encode(),
                                            padding.PKCS1v15(), hashes.SHA256())
        except Exception as e:  # noqa: BLE001 -- any failure is an invalid grant
            return f"Invalid JWT Signature ({type(e).__name__})"
        now = time.time()
        if body.get("iss") != sa_email:
            return f"unknown issuer {body.get('iss')}"
        if body.get("aud") != audience:
            return f"audience {body.get('aud')} is not {audience}"
        if SCOPE not in str(body.get("scope", "")).split():
            return "scope lacks cloud-platform"
        iat, exp = body.get("iat"), body.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or not \
                (iat <= now + 60 and exp > now and exp - iat <= 3600):
            return f"bad iat/exp {iat}/{exp}"
        return None

    class Handler(fake_tts.Handler):
        def reply(self, status, body, content_type="application/json"):
            if not isinstance(body, bytes):
                body = json.dumps(body).encode()
            super().reply(status, body, content_type)

        def error(self, code, status, message, reason=None):
            error = {"code": code, "message": message, "status": status}
            if reason:
                error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                     "reason": reason, "domain": "googleapis.com"}]
            self.reply(code, {"error": error})

        def do_GET(self):
            if self.path == "/stats":
                with lock:
                    self.reply(200, {"synth": state["synth"], "tokens": state["tokens"]})
            else:
                self.error(404, "NOT_FOUND", f"no route {self.path}")

        def do_POST(self):
            raw = self.body()
            url = urlsplit(self.path)
            if url.path == "/token":
                return self.token(raw, url)
            if url.path != "/v1beta1/text:synthesize":
                return self.error(404, "NOT_FOUND", f"no route {url.path}")
            with lock:
                state["synth"] += 1
            key = self.headers.get("X-Goog-Api-Key")
            auth = self.headers.get("Authorization", "")
            if key is not None:
                if key != args.key:
                    return self.error(400, "INVALID_ARGUMENT",
                                      "API key not valid. Please pass a valid API key.",
                                      "API_KEY_INVALID")
            elif auth.startswith("Bearer "):
                token = auth[len("Bearer "):]
                with lock:
                    issued = token in state["issued"]
                if token != args.token and not issued:
                    return self.error(401, "UNAUTHENTICATED",
                                      "Request had invalid authentication credentials. "
                                      "Expected OAuth 2 access token.", "ACCESS_TOKEN_TYPE_UNSUPPORTED")
            elif args.key or args.token or args.credentials_dir:
                return self.error(403, "PERMISSION_DENIED",
                                  "Method doesn't allow unregistered callers", "SERVICE_DISABLED")
            try:
                body = json.loads(raw)
            except ValueError:
                return self.error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
            found = body_problems(validator, body)
            if found:
                return self.error(400, "INVALID_ARGUMENT", "; ".join(found))
            name = body["voice"].get("name", "")
            language = body["voice"].get("languageCode", "")
            if name not in VOICES:
                return self.error(400, "INVALID_ARGUMENT",
                                  f"Voice '{name}' does not exist. Is it misspelled?")
            if not name.startswith(language + "-"):
                return self.error(400, "INVALID_ARGUMENT",
                                  f"Requested language code '{language}' doesn't match the voice '{name}'.")
            text, marks, phonemes = parse_ssml(body["input"]["ssml"])
            if name == "en-US-Busy-A":
                with lock:
                    first = text not in state["busy"]
                    state["busy"].add(text)
                if first:
                    return self.error(429, "RESOURCE_EXHAUSTED",
                                      "Resource has been exhausted (e.g. check quota).")
            config = body["audioConfig"]
            rate = config.get("sampleRateHertz") or 24000
            speed = config.get("speakingRate") or 1.0
            pcm = voice.pcm(text, float(speed), rate)
            seconds = len(pcm) / 2 / rate
            total = max(len(text), 1)
            timepoints = [{"markName": m, "timeSeconds": round(seconds * offset / total, 4)}
                          for m, offset in marks]
            audio = fake_tts.wav(pcm, rate)
            if config["audioEncoding"] == "MP3":
                audio = fake_tts.ffmpeg(audio, "-i", "pipe:0", "-f", "mp3", "-c:a", "libmp3lame",
                                        "-b:a", "32k", "pipe:1")
            elif config["audioEncoding"] != "LINEAR16":
                return self.error(400, "INVALID_ARGUMENT",
                                  f"{config['audioEncoding']} is not served here")
            log.append({"voice": name, "language": language, "text": text,
                        "marks": [m for m, _ in marks], "phonemes": phonemes,
                        "encoding": config["audioEncoding"], "rate": rate, "speed": speed,
                        "auth": "key" if key is not None else ("bearer" if auth else "none"),
                        "user_project": self.headers.get("x-goog-user-project")})
            self.reply(200, {"audioContent": base64.b64encode(audio).decode(),
                             "timepoints": timepoints,
                             "audioConfig": {**config, "sampleRateHertz": rate}})

        def token(self, raw, url):
            if self.headers.get("Content-Type", "").split(";")[0] != \
                    "application/x-www-form-urlencoded":
                return self.reply(400, {"error": "invalid_request",
                                        "error_description": "not a form"})
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            grant = form.get("grant_type")
            if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
                problem = check_jwt(form.get("assertion", ""), f"{token_uri}"
                                    + (f"?{url.query}" if url.query else ""))
            elif grant == "refresh_token":
                problem = None if all(form.get(k) == v for k, v in user.items()) \
                    else "Bad Request: the refresh token or client is not known"
            else:
                problem = f"unsupported grant_type {grant}"
            if problem:
                return self.reply(400, {"error": "invalid_grant", "error_description": problem})
            lifetime = int(parse_qs(url.query).get("lifetime", ["3599"])[0])
            token = "ya29.fake-" + secrets.token_urlsafe(24)
            with lock:
                state["tokens"] += 1
                state["issued"].add(token)
            self.reply(200, {"access_token": token, "expires_in": lifetime,
                             "token_type": "Bearer"})

    fake_tts.serve(server, Handler)


if __name__ == "__main__":
    main()
