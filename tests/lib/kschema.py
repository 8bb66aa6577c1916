# SPDX-License-Identifier: Apache-2.0
"""A generic Kafka message codec driven by the protocol's JSON schemas
(clients/src/main/resources/common/message/*.json), read at run time: from a
directory, or from the kafka-clients jar that ships them (the reference
Kafka's own copy). Encodes a request and decodes a response of any API and
version: classic and flexible (compact) encodings, nullable fields, common
structs and tagged fields. Messages are plain dicts keyed by the schemas'
field names; unknown tagged fields decode under "_tags"."""
import json
import os
import re
import struct
import zipfile
from pathlib import Path

from kwire import Reader, Writer, uvarint

_COMMENT = re.compile(r"^\s*//.*$", re.M)
_FIXED = {"bool": ">?", "int8": ">b", "int16": ">h", "uint16": ">H", "int32": ">i",
          "uint32": ">I", "int64": ">q", "float64": ">d"}


def versions(spec):
    """(lo, hi) of a schema version range ("3+", "0-5", "7", "none")."""
    if spec in (None, "", "none"):
        return (1, 0)
    if spec.endswith("+"):
        return (int(spec[:-1]), 1 << 15)
    lo, _, hi = spec.partition("-")
    return (int(lo), int(hi or lo))


def _in(spec, v):
    lo, hi = versions(spec)
    return lo <= v <= hi


class Message:
    """One request or response schema."""

    def __init__(self, doc):
        self.doc = doc
        self.api_key = doc.get("apiKey")
        self.name = doc["name"]
        self.valid = versions(doc["validVersions"])
        self.flexible = versions(doc.get("flexibleVersions", "none"))
        self.common = {s["name"]: s for s in doc.get("commonStructs", [])}

    def is_flexible(self, v):
        return self.flexible[0] <= v <= self.flexible[1]

    def _children(self, field):
        if "fields" in field:
            return field["fields"]
        base = field["type"].removeprefix("[]")
        return self.common[base]["fields"]

    # ---- decoding ----
    def decode(self, data, version):
        r = Reader(data, self.is_flexible(version))
        out = self._read_struct(r, self.doc["fields"], version)
        r.end(self.name)
        return out

    def _read_struct(self, r, fields, v):
        out, tagged = {}, {}
        for f in fields:
            if not _in(f["versions"], v):
                continue
            if r.flex and _in(f.get("taggedVersions"), v):
                tagged[f["tag"]] = f
                out[f["name"]] = _default(f, v)
                continue
            out[f["name"]] = self._read(r, f, f["type"], v)
        if r.flex:
            for _ in range(r.uvarint()):
                tag, size = r.uvarint(), r.uvarint()
                raw = r.raw(size)
                if tag in tagged:
                    sub = Reader(raw, True)
                    out[tagged[tag]["name"]] = self._read(sub, tagged[tag], tagged[tag]["type"], v)
                else:
                    out.setdefault("_tags", {})[tag] = raw.hex()
        return out

    def _read(self, r, f, typ, v):
        if typ in _FIXED:
            return r.take(_FIXED[typ])
        if typ == "uuid":
            return r.uuid()
        if typ == "string":
            return r.str()
        if typ in ("bytes", "records"):
            b = r.bytes()
            return None if b is None else bytes(b)
        if typ.startswith("[]"):
            n = r.arr()
            if n < 0:
                return None
            elem = typ[2:]
            if elem in _FIXED or elem in ("uuid", "string"):
                return [self._read(r, f, elem, v) for _ in range(n)]
            kids = self._children(f)
            return [self._read_struct(r, kids, v) for _ in range(n)]
        return self._read_struct(r, self._children(f), v)   # a single struct

    # ---- encoding ----
    def encode(self, msg, version):
        w = Writer(self.is_flexible(version))
        self._write_struct(w, self.doc["fields"], msg or {}, version)
        return bytes(w.b)

    def _write_struct(self, w, fields, msg, v):
        tagged = []
        for f in fields:
            if not _in(f["versions"], v):
                continue
            val = msg.get(f["name"], _default(f, v))
            if w.flex and _in(f.get("taggedVersions"), v):
                if val != _default(f, v):
                    tagged.append((f["tag"], f, val))
                continue
            self._write(w, f, f["type"], val, v)
        if w.flex:
            w.b += uvarint(len(tagged))
            for tag, f, val in sorted(tagged, key=lambda t: t[0]):
                sub = Writer(True)
                self._write(sub, f, f["type"], val, v)
                w.b += uvarint(tag) + uvarint(len(sub.b)) + sub.b

    def _write(self, w, f, typ, val, v):
        if typ in _FIXED:
            w.put(_FIXED[typ], val)
        elif typ == "uuid":
            w.uuid(val)
        elif typ == "string":
            w.str(val)
        elif typ in ("bytes", "records"):
            w.bytes(val)
        elif typ.startswith("[]"):
            w.arr(None if val is None else len(val))
            elem = typ[2:]
            for item in val or []:
                if elem in _FIXED or elem in ("uuid", "string"):
                    self._write(w, f, elem, item, v)
                else:
                    self._write_struct(w, self._children(f), item, v)
        else:
            self._write_struct(w, self._children(f), val or {}, v)


def _default(f, v):
    typ, d = f["type"], f.get("default")
    if typ.startswith("[]"):
        return []
    if typ in _FIXED:
        if typ == "bool":
            return d == "true"
        if typ == "float64":
            return float(d or 0)
        return int(d, 0) if isinstance(d, str) and d else int(d or 0)
    if typ == "uuid":
        return b"\x00" * 16
    if typ in ("string", "bytes", "records"):
        if d == "null":
            return None
        if typ == "string":
            return "" if d is None else d
        return b""
    return {}


class Schemas:
    """Every message schema, by name ("MetadataRequest") and by (api key,
    "request"/"response")."""

    def __init__(self, source):
        self.by_name, self.by_key = {}, {}
        for text in _texts(Path(source)):
            doc = json.loads(_COMMENT.sub("", text))
            m = Message(doc)
            self.by_name[m.name] = m
            if m.api_key is not None and doc["type"] in ("request", "response"):
                self.by_key[(m.api_key, doc["type"])] = m

    def request(self, api_key):
        return self.by_key[(api_key, "request")]

    def response(self, api_key):
        return self.by_key[(api_key, "response")]


def _texts(source):
    if source.is_dir():
        for p in sorted(source.glob("*.json")):
            yield p.read_text()
        return
    with zipfile.ZipFile(source) as z:
        for n in sorted(z.namelist()):
            if n.startswith("common/message/") and n.endswith(".json"):
                yield z.read(n).decode()


def find_source(libs):
    """Where the schemas are: $SPILLWAY_KAFKA_SCHEMAS (a directory or a
    jar), else the kafka-clients jar among the reference Kafka's jars in
    libs (kafka-ref.sh fetch); None when neither is there."""
    env = os.environ.get("SPILLWAY_KAFKA_SCHEMAS")
    if env:
        return env
    jars = sorted(Path(libs).glob("kafka-clients-*.jar"))
    return jars[0] if jars else None


# ---- framing (request header v1/v2, response header v0/v1) ----

API_VERSIONS = 18


def frame(schemas, api_key, version, correlation, body, client_id=b"kschema"):
    hdr = struct.pack(">hhih", api_key, version, correlation, len(client_id)) + client_id
    if schemas.request(api_key).is_flexible(version):
        hdr += b"\x00"
    payload = hdr + body
    return struct.pack(">i", len(payload)) + payload


def strip_response_header(schemas, api_key, version, data):
    """The body after a response header's tagged fields (never for
    ApiVersions, KIP-511)."""
    if api_key == API_VERSIONS or not schemas.response(api_key).is_flexible(version):
        return data
    r = Reader(data, True)
    r.tags()
    return data[r.pos:]


def call(schemas, target, api_key, version, msg, timeout=30):
    """One request (msg: a dict) on a new connection: the decoded answer,
    or None when the broker closed the connection instead."""
    import kwire
    from sockio import read_frame
    body = schemas.request(api_key).encode(msg, version)
    with kwire.connect(target, timeout) as sock:
        try:
            sock.sendall(frame(schemas, api_key, version, 5, body))
            corr, data = read_frame(sock)
        except (ConnectionError, OSError):
            return None
    assert corr == 5, corr
    data = strip_response_header(schemas, api_key, version, data)
    return schemas.response(api_key).decode(data, version)
