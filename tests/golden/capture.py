#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Captures golden request bytes from real Kafka clients. A tiny fake broker on
# 127.0.0.1 records every request frame and answers ApiVersions, Metadata,
# CreateTopics and DeleteTopics well enough for the client to go on. The
# answers are encoded from the Kafka JSON schemas by a small generic encoder
# here, written independently of the C generator. Output:
# tests/golden/<api_snake>/v<N>.<client>.req.bin (frame without size prefix).
#
# usage: capture.py [--schemas DIR] [--out DIR] [scenario ...]
import argparse
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCHEMAS = os.path.join(ROOT, '..', 'shared', 'kafka-protocol', 'messages')
TOPIC = 'golden-topic'
ADVERTISE = {18: (0, 3), 3: (0, 12), 19: (0, 7), 20: (0, 6)}
PRIMS = {'bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64',
         'string', 'bytes', 'records', 'uuid'}
FIXED = {'int8': '>b', 'int16': '>h', 'uint16': '>H', 'int32': '>i', 'uint32': '>I',
         'int64': '>q', 'float64': '>d'}


def snake(name):
    s = re.sub(r'([A-Z]+)([A-Z][a-z])', r'\1_\2', name)
    return re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', s).lower()


def vrange(spec):
    if spec in (None, 'none'):
        return None
    if spec.endswith('+'):
        return (int(spec[:-1]), 1 << 15)
    lo, _, hi = spec.partition('-')
    return (int(lo), int(hi or lo))


def has(v, rng):
    return rng is not None and rng[0] <= v <= rng[1]


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7f) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


class Schema:
    def __init__(self, path):
        with open(path, encoding='utf-8') as f:
            d = json.loads(re.sub(r'^\s*//.*$', '', f.read(), flags=re.M))
        self.d = d
        self.flex = vrange(d.get('flexibleVersions', 'none'))
        self.common = {c['name']: c['fields'] for c in d.get('commonStructs', [])}

    def sub(self, f):
        return f.get('fields') or self.common[f['type'].lstrip('[]')]

    # ---- encode: vals is a dict keyed by schema field name ----
    def encode(self, vals, v):
        return self.enc_struct(self.d['fields'], vals, v, has(v, self.flex))

    def enc_struct(self, fields, vals, v, flex):
        out, tagged = b'', []
        for f in fields:
            if not has(v, vrange(f['versions'])):
                continue
            if 'tag' in f and has(v, vrange(f.get('taggedVersions'))):
                if f['name'] in vals:
                    tagged.append((f['tag'], self.enc_field(f, vals[f['name']], v, True)))
                continue
            ff = flex if 'flexibleVersions' not in f else has(v, vrange(f['flexibleVersions']))
            out += self.enc_field(f, vals.get(f['name'], self.default(f)), v, ff)
        if flex:
            out += uvarint(len(tagged))
            for tag, data in sorted(tagged):
                out += uvarint(tag) + uvarint(len(data)) + data
        return out

    def default(self, f):
        t, d = f['type'], f.get('default')
        if t.startswith('[]'):
            return []
        if t in ('string',):
            return None if d == 'null' else (d or '')
        if t in ('bytes', 'records'):
            return b''
        if t == 'bool':
            return str(d).lower() == 'true'
        if t == 'uuid':
            return b'\0' * 16
        if t in FIXED:
            return int(str(d), 0) if d not in (None, '') else 0
        return {}

    def enc_len(self, n, flex, wide):
        if flex:
            return uvarint(0 if n is None else n + 1)
        return struct.pack('>i' if wide else '>h', -1 if n is None else n)

    def enc_field(self, f, val, v, flex):
        t = f['type']
        if t.startswith('[]'):
            if val is None:
                return self.enc_len(None, flex, True)
            et, out = t[2:], self.enc_len(len(val), flex, True)
            for e in val:
                out += (self.enc_prim(et, e, flex) if et in PRIMS
                        else self.enc_struct(self.sub(f), e, v, flex))
            return out
        if t in PRIMS:
            return self.enc_prim(t, val, flex)
        return self.enc_struct(self.sub(f), val, v, flex)

    def enc_prim(self, t, val, flex):
        if t in FIXED:
            return struct.pack(FIXED[t], val)
        if t == 'bool':
            return b'\1' if val else b'\0'
        if t == 'uuid':
            return val
        if t == 'string':
            if val is None:
                return self.enc_len(None, flex, False)
            b = val.encode()
            return self.enc_len(len(b), flex, False) + b
        if val is None:
            return self.enc_len(None, flex, True)
        return self.enc_len(len(val), flex, True) + val

    # ---- decode: returns a dict keyed by schema field name ----
    def decode(self, buf, v):
        self.buf, self.pos = buf, 0
        return self.dec_struct(self.d['fields'], v, has(v, self.flex))

    def take(self, n):
        if self.pos + n > len(self.buf):
            raise ValueError('truncated')
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def uvar(self):
        n = shift = 0
        while True:
            b = self.take(1)[0]
            n |= (b & 0x7f) << shift
            shift += 7
            if not b & 0x80:
                return n

    def dec_len(self, flex, wide):
        if flex:
            return self.uvar() - 1
        return struct.unpack('>i' if wide else '>h', self.take(4 if wide else 2))[0]

    def dec_struct(self, fields, v, flex):
        out = {}
        for f in fields:
            if not has(v, vrange(f['versions'])):
                continue
            if 'tag' in f and has(v, vrange(f.get('taggedVersions'))):
                continue
            ff = flex if 'flexibleVersions' not in f else has(v, vrange(f['flexibleVersions']))
            out[f['name']] = self.dec_field(f, v, ff)
        if flex:
            for _ in range(self.uvar()):
                self.uvar()
                self.take(self.uvar())
        return out

    def dec_field(self, f, v, flex):
        t = f['type']
        if t.startswith('[]'):
            n = self.dec_len(flex, True)
            if n < 0:
                return None
            et = t[2:]
            return [self.dec_prim(et, flex) if et in PRIMS
                    else self.dec_struct(self.sub(f), v, flex) for _ in range(n)]
        if t in PRIMS:
            return self.dec_prim(t, flex)
        return self.dec_struct(self.sub(f), v, flex)

    def dec_prim(self, t, flex):
        if t in FIXED:
            fmt = FIXED[t]
            return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        if t == 'bool':
            return self.take(1)[0] != 0
        if t == 'uuid':
            return self.take(16)
        n = self.dec_len(flex, t != 'string')
        if n < 0:
            return None
        b = self.take(n)
        return b.decode() if t == 'string' else b


class FakeBroker:
    """Answers one scenario's connections; records (api, version, frame)."""

    def __init__(self, schemas_dir):
        self.dir = schemas_dir
        self.cache = {}
        self.frames = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def schema(self, name):
        if name not in self.cache:
            self.cache[name] = Schema(os.path.join(self.dir, name + '.json'))
        return self.cache[name]

    def api_name(self, key):
        for fn in sorted(os.listdir(self.dir)):
            if fn.endswith('Request.json'):
                s = self.schema(fn[:-5])
                if s.d.get('apiKey') == key:
                    return fn[:-len('Request.json')]
        return None

    def accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def recv_exact(self, conn, n):
        b = b''
        while len(b) < n:
            chunk = conn.recv(n - len(b))
            if not chunk:
                raise EOFError
            b += chunk
        return b

    def serve(self, conn):
        try:
            while True:
                size = struct.unpack('>i', self.recv_exact(conn, 4))[0]
                frame = self.recv_exact(conn, size)
                resp = self.handle(frame)
                if resp is not None:
                    conn.sendall(struct.pack('>i', len(resp)) + resp)
        except (EOFError, OSError):
            pass
        finally:
            conn.close()

    def handle(self, frame):
        key, ver, corr = struct.unpack('>hhi', frame[:8])
        with self.lock:
            self.frames.append((key, ver, frame))
        name = self.api_name(key)
        if name is None or key not in ADVERTISE:
            return None
        req_s, resp_s = self.schema(name + 'Request'), self.schema(name + 'Response')
        # Request header v2 (flexible) ends with a tagged-field byte after ClientId.
        cid_len = struct.unpack('>h', frame[8:10])[0]
        body_at = 10 + max(cid_len, 0)
        if has(ver, req_s.flex):
            body_at += 1
        if not has(ver, vrange(req_s.d['validVersions'])):
            ver = 0     # as Kafka: answer an unknown ApiVersions version with v0
        req = req_s.decode(frame[body_at:], ver)
        body = resp_s.encode(self.answer(key, ver, req), ver)
        hdr = struct.pack('>i', corr)
        if has(ver, resp_s.flex) and key != 18:
            hdr += b'\0'
        return hdr + body

    def answer(self, key, ver, req):
        if key == 18:
            return {'ErrorCode': 0, 'ApiKeys': [
                {'ApiKey': k, 'MinVersion': lo, 'MaxVersion': hi}
                for k, (lo, hi) in sorted(ADVERTISE.items())]}
        broker = {'NodeId': 1, 'Host': '127.0.0.1', 'Port': self.port, 'Rack': None}
        if key == 3:
            names = [t['Name'] for t in (req.get('Topics') or [])]
            topics = [{'ErrorCode': 0, 'Name': n, 'TopicId': b'\x11' * 16,
                       'Partitions': [{'ErrorCode': 0, 'PartitionIndex': 0, 'LeaderId': 1,
                                       'LeaderEpoch': 0, 'ReplicaNodes': [1],
                                       'IsrNodes': [1], 'OfflineReplicas': []}]}
                      for n in names]
            return {'Brokers': [broker], 'ClusterId': 'spillway-golden', 'ControllerId': 1,
                    'Topics': topics}
        if key == 19:
            return {'Topics': [{'Name': t['Name'], 'ErrorCode': 0, 'ErrorMessage': None,
                                'NumPartitions': t['NumPartitions'],
                                'ReplicationFactor': t['ReplicationFactor'],
                                'Configs': None if ver >= 5 else []}
                               for t in req['Topics']]}
        if key == 20:
            names = req.get('TopicNames') or [t['Name'] for t in req.get('Topics', [])]
            return {'Responses': [{'Name': n, 'ErrorCode': 0} for n in names]}
        return {}

    def close(self):
        self.sock.close()


# ---- scenarios: each runs one real client against a fresh FakeBroker ----

CONFLUENT = r'''
import sys
from confluent_kafka.admin import AdminClient, NewTopic
a = AdminClient({"bootstrap.servers": sys.argv[1], "client.id": "golden-confluent"})
a.list_topics(topic="%(t)s", timeout=10)
for f in a.create_topics([NewTopic("%(t)s", 3, 1)], operation_timeout=5).values():
    f.result(10)
for f in a.delete_topics(["%(t)s"], operation_timeout=5).values():
    f.result(10)
''' % {'t': TOPIC}

KAFKA_PYTHON = r'''
import sys
from kafka.admin import KafkaAdminClient, NewTopic
a = KafkaAdminClient(bootstrap_servers=sys.argv[1], client_id="golden-kafka-python",
                     request_timeout_ms=10000)
a.create_topics([NewTopic("%(t)s", 3, 1)], timeout_ms=5000)
a.delete_topics(["%(t)s"], timeout_ms=5000)
a.close()
''' % {'t': TOPIC}

# The clients are installed for the system Python, not necessarily ours.
CLIENT_PYTHON = '/usr/bin/python3'

SCENARIOS = {
    'kcat': lambda addr: ['kcat', '-b', addr, '-L', '-t', TOPIC, '-m', '5',
                          '-X', 'client.id=golden-kcat'],
    'confluent-kafka': lambda addr: [CLIENT_PYTHON, '-c', CONFLUENT, addr],
    'kafka-python': lambda addr: [CLIENT_PYTHON, '-c', KAFKA_PYTHON, addr],
}


def run(name, schemas, out):
    fb = FakeBroker(schemas)
    addr = '127.0.0.1:%d' % fb.port
    p = subprocess.run(SCENARIOS[name](addr), capture_output=True, text=True, timeout=60)
    fb.close()
    if p.returncode != 0:
        print('%s: exit %d\n%s' % (name, p.returncode, p.stderr[-2000:]), file=sys.stderr)
    seen = set()
    for key, ver, frame in fb.frames:
        if (key, ver) in seen:
            continue
        seen.add((key, ver))
        api = fb.api_name(key) or 'api%d' % key
        d = os.path.join(out, snake(api))
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, 'v%d.%s.req.bin' % (ver, name))
        with open(path, 'wb') as f:
            f.write(frame)
        print('%-16s %-14s v%-2d %4d bytes -> %s' % (name, api, ver, len(frame),
                                                     os.path.relpath(path, ROOT)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--schemas', default=SCHEMAS)
    ap.add_argument('--out', default=HERE)
    ap.add_argument('scenario', nargs='*', default=sorted(SCENARIOS))
    args = ap.parse_args()
    for name in args.scenario:
        run(name, args.schemas, args.out)


if __name__ == '__main__':
    main()
