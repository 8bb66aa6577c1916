#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Kafka JSON message schemas -> C structs with per-version init/decode/encode
# (protocol/gen/kp_msg_*.{h,c}), the API table (kp_api.{h,c}) and test-only
# fill helpers (tests/unit/protocol/gen/kp_test_fill.{h,c}, never in product
# code). Python 3 stdlib only; output is deterministic. It must not emit code
# that allocates while decoding.
#
# usage: kp_gen.py [SCHEMA_DIR] [--out DIR] [--test-out DIR] [--check]
#   --out: the codec (default: this script's directory);
#   --test-out: the test fill helpers (default: tests/unit/protocol/gen);
#   --check: generate into a temporary directory and diff against both;
#            exit 1 on any difference.
import argparse
import difflib
import json
import os
import re
import sys
import tempfile

# The generated APIs, by schema name (without Request/Response): the one list.
APIS = [
    'Produce', 'Fetch', 'ListOffsets', 'Metadata', 'OffsetCommit', 'OffsetFetch',
    'FindCoordinator', 'JoinGroup', 'Heartbeat', 'LeaveGroup', 'SyncGroup',
    'DescribeGroups', 'ListGroups', 'SaslHandshake', 'ApiVersions', 'CreateTopics',
    'DeleteTopics', 'DeleteRecords', 'InitProducerId', 'OffsetForLeaderEpoch',
    'AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn', 'TxnOffsetCommit',
    'DescribeConfigs', 'AlterConfigs', 'SaslAuthenticate', 'CreatePartitions',
    'DeleteGroups', 'IncrementalAlterConfigs', 'OffsetDelete', 'DescribeCluster',
    'DescribeProducers', 'DescribeLogDirs', 'DescribeClientQuotas', 'AlterClientQuotas',
    'DescribeUserScramCredentials', 'DescribeAcls', 'CreateAcls', 'DeleteAcls',
    'AlterUserScramCredentials', 'ElectLeaders', 'AlterPartitionReassignments',
    'ListPartitionReassignments',
]
HEADERS = ['RequestHeader', 'ResponseHeader']

VMAX = 0x7fff
LINE_MAX = 100
PRIMS = {
    'bool': 'bool', 'int8': 'int8_t', 'int16': 'int16_t', 'uint16': 'uint16_t',
    'int32': 'int32_t', 'uint32': 'uint32_t', 'int64': 'int64_t', 'float64': 'double',
    'string': 'struct kp_str', 'bytes': 'struct kp_bytes', 'records': 'struct kp_bytes',
    'uuid': 'struct kp_uuid',
}
RW = {
    'bool': 'bool', 'int8': 'i8', 'int16': 'i16', 'uint16': 'u16', 'int32': 'i32',
    'uint32': 'u32', 'int64': 'i64', 'float64': 'f64',
}
C_KEYWORDS = {
    'auto', 'break', 'case', 'char', 'const', 'continue', 'default', 'do', 'double',
    'else', 'enum', 'extern', 'float', 'for', 'goto', 'if', 'inline', 'int', 'long',
    'register', 'restrict', 'return', 'short', 'signed', 'sizeof', 'static', 'struct',
    'switch', 'typedef', 'union', 'unsigned', 'void', 'volatile', 'while', 'bool',
}


def snake(name):
    s = re.sub(r'([A-Z]+)([A-Z][a-z])', r'\1_\2', name)
    s = re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', s)
    return s.lower()


def load_json(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    text = re.sub(r'^\s*//.*$', '', text, flags=re.M)
    return json.loads(text)


def parse_versions(spec):
    """'3+', '0-4', '5', 'none' -> (lo, hi) inclusive, or None when empty."""
    if spec is None or spec == 'none':
        return None
    spec = str(spec).strip()
    if spec.endswith('+'):
        return (int(spec[:-1]), VMAX)
    if '-' in spec:
        lo, hi = spec.split('-')
        return (int(lo), int(hi))
    return (int(spec), int(spec))


def intersect(a, b):
    if a is None or b is None:
        return None
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else None


def covers(outer, inner):
    """True if outer contains every version of inner."""
    if inner is None:
        return True
    return outer is not None and outer[0] <= inner[0] and outer[1] >= inner[1]


def cond(rng, within):
    """C condition on `version` for rng, given version is already in within.
    None: always true; 'false': never."""
    r = intersect(rng, within)
    if r is None:
        return 'false'
    parts = []
    if r[0] > within[0]:
        parts.append('version >= %d' % r[0])
    if r[1] < within[1]:
        parts.append('version <= %d' % r[1])
    if not parts:
        return None
    return ' && '.join(parts)


def bool_expr(rng, within):
    c = cond(rng, within)
    return 'true' if c is None else c


class Field:
    pass


class Struct:
    def __init__(self, cname, fields, msg):
        self.cname = cname
        self.fields = fields
        self.msg = msg
        self.used_inline = False


class Message:
    def __init__(self, d):
        self.name = d['name']
        self.kind = d['type']
        self.api_key = d.get('apiKey')
        self.valid = parse_versions(d['validVersions'])
        self.flex = parse_versions(d.get('flexibleVersions', 'none'))
        self.snake = snake(self.name)
        self.cname = 'kp_' + self.snake
        self.common = {cs['name']: cs for cs in d.get('commonStructs', [])}
        self.structs = []       # nested structs, dependencies first
        self.by_name = {}
        self.fill_counter = 0
        self.root = self.build_struct(self.cname, d['fields'])

    def build_struct(self, cname, jfields):
        fields = []
        seen = set()
        for jf in jfields:
            f = self.build_field(jf)
            if f.snake in seen:
                raise SystemExit('%s: duplicate member %s' % (self.name, f.snake))
            seen.add(f.snake)
            fields.append(f)
        return Struct(cname, fields, self)

    def get_struct(self, tname, jfields):
        if tname in self.by_name:
            return self.by_name[tname]
        if jfields is None:
            if tname not in self.common:
                raise SystemExit('%s: unknown type %s' % (self.name, tname))
            jfields = self.common[tname]['fields']
        st = self.build_struct('%s_%s' % (self.cname, snake(tname)), jfields)
        self.by_name[tname] = st
        self.structs.append(st)
        return st

    def build_field(self, jf):
        f = Field()
        f.name = jf['name']
        f.snake = snake(f.name)
        if f.snake in C_KEYWORDS:
            f.snake += '_'
        t = jf['type']
        f.versions = intersect(parse_versions(jf.get('versions')), self.valid)
        f.nullable = parse_versions(jf.get('nullableVersions'))
        f.tagged = parse_versions(jf.get('taggedVersions'))
        f.tag = jf.get('tag')
        f.ignorable = bool(jf.get('ignorable', False))
        f.flex = (parse_versions(jf['flexibleVersions']) if 'flexibleVersions' in jf
                  else self.flex)
        f.default = jf.get('default')
        f.elem = None
        f.struct = None
        if t.startswith('[]'):
            f.kind = 'array'
            et = t[2:]
            if et in PRIMS:
                f.elem = et
            else:
                f.struct = self.get_struct(et, jf.get('fields'))
        elif t in PRIMS:
            f.kind = 'prim'
            f.elem = t
        else:
            f.kind = 'struct'
            f.struct = self.get_struct(t, jf.get('fields'))
            f.struct.used_inline = True
            if f.nullable is not None:
                raise SystemExit('%s.%s: nullable struct fields unsupported'
                                 % (self.name, f.name))
        if f.tagged is not None:
            f.tagged = intersect(f.tagged, f.versions)
            if f.tagged != f.versions:
                raise SystemExit('%s.%s: tagged in only some versions is unsupported'
                                 % (self.name, f.name))
        return f


# ---------------------------------------------------------------- helpers

def wrap(line):
    """Break a long C line after the last ', ', '(' or ' = ' that fits,
    indenting the continuation two tabs deeper."""
    if len(line.expandtabs(8)) <= LINE_MAX or '"' in line:
        return [line]
    indent = line[:len(line) - len(line.lstrip('\t'))]
    cut = -1
    for m in re.finditer(r', |\(| = ', line):
        end = m.end() if m.group() == '(' else m.start() + (1 if m.group() == ', ' else 2)
        if len(line[:end].expandtabs(8)) <= LINE_MAX and end > len(indent) + 8:
            cut = end
    if cut == -1:
        return [line]
    head = line[:cut].rstrip()
    rest = indent + '\t\t' + line[cut:].lstrip()
    return [head] + wrap(rest)


class Out:
    def __init__(self):
        self.lines = []

    def __call__(self, s=''):
        for ln in s.split('\n'):
            self.lines.extend(wrap(ln.rstrip()) if ln.strip() else [''])

    def text(self):
        return '\n'.join(self.lines).rstrip('\n') + '\n'


def c_int(v, ctype):
    v = int(v)
    if ctype == 'int32_t' and v == -2 ** 31:
        return 'INT32_MIN'
    if ctype == 'int64_t':
        if v == -2 ** 63:
            return 'INT64_MIN'
        return 'INT64_C(%d)' % v
    return str(v)


def parse_default(f):
    """Python value of the field's default, or None for null."""
    d = f.default
    t = f.elem if f.kind == 'prim' else None
    if f.kind == 'array':
        return 0
    if f.kind == 'struct':
        return None
    if t == 'bool':
        if isinstance(d, bool):
            return d
        return str(d).lower() == 'true' if d is not None else False
    if t in ('int8', 'int16', 'uint16', 'int32', 'uint32', 'int64'):
        if d is None or d == '':
            return 0
        return d if isinstance(d, int) else int(str(d), 0)
    if t == 'float64':
        return float(d) if d not in (None, '') else 0.0
    if t == 'string':
        if d == 'null':
            return None
        return d if d is not None else ''
    if t == 'records':
        return None if covers(f.nullable, f.versions) else b''
    if t == 'bytes':
        return None if d == 'null' else b''
    return 0


def c_str_lit(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def is_default_expr(f, lhs):
    dv = parse_default(f)
    if f.kind == 'array':
        return '%s.count == 0' % lhs
    if f.kind == 'struct':
        return '%s_is_default(&%s)' % (f.struct.cname, lhs)
    t = f.elem
    if t == 'bool':
        return lhs if dv else '!%s' % lhs
    if t in RW:
        if t == 'float64':
            return '%s == %r' % (lhs, dv)
        return '%s == %s' % (lhs, c_int(dv, PRIMS[t]))
    if t == 'uuid':
        return 'kp_uuid_is_zero(&%s)' % lhs
    if t == 'string':
        if dv is None:
            return '%s.len < 0' % lhs
        if dv == '':
            return '%s.len == 0' % lhs
        return 'kp_str_eq(%s, kp_str_c(%s))' % (lhs, c_str_lit(dv))
    if t in ('bytes', 'records'):
        return '%s.len < 0' % lhs if dv is None else '%s.len == 0' % lhs
    raise SystemExit('no default for ' + t)


def flex_expr(f, valid):
    return bool_expr(f.flex, f.versions) if f.versions else 'false'


def elem_ctype(f):
    if f.struct is not None:
        return 'struct ' + f.struct.cname
    return PRIMS[f.elem]


def member_ctype(f):
    if f.kind == 'array':
        return 'struct kp_array'
    if f.kind == 'struct':
        return 'struct ' + f.struct.cname
    return PRIMS[f.elem]


# ---------------------------------------------------------------- header

def gen_struct_decl(o, st):
    o('struct %s {' % st.cname)
    if not st.fields:
        o('\tchar unused_;           /* no fields in any version */')
    for f in st.fields:
        note = []
        if f.versions is None:
            note.append('never present')
        else:
            note.append('v%d+' % f.versions[0] if f.versions[1] == VMAX
                        else 'v%d-%d' % f.versions)
        if f.tagged is not None:
            note.append('tag %d' % f.tag)
        if f.nullable is not None and f.versions and intersect(f.nullable, f.versions):
            note.append('nullable')
        if f.kind == 'array':
            note.append('of ' + elem_ctype(f))
        o('\t%s %s;%s' % (member_ctype(f), f.snake, '   /* %s */' % ', '.join(note)))
    o('};')
    o()


def gen_protos(o, st):
    n = st.cname
    o('void %s_init(struct %s *m);' % (n, n))
    o('int %s_decode(struct kp_cursor *c, int16_t version, struct %s *m);' % (n, n))
    o('void %s_encode(struct kp_writer *w, int16_t version, const struct %s *m);'
      % (n, n))


def all_structs(msg):
    return msg.structs + [msg.root]


# ---------------------------------------------------------------- init

def gen_init(o, st):
    o('void')
    o('%s_init(struct %s *m)' % (st.cname, st.cname))
    o('{')
    o('\tmemset(m, 0, sizeof(*m));')
    for f in st.fields:
        lhs = 'm->' + f.snake
        if f.kind == 'struct':
            o('\t%s_init(&%s);' % (f.struct.cname, lhs))
            continue
        if f.kind == 'array':
            continue
        dv = parse_default(f)
        t = f.elem
        if t == 'bool':
            if dv:
                o('\t%s = true;' % lhs)
        elif t in RW:
            if dv:
                o('\t%s = %s;' % (lhs, repr(dv) if t == 'float64' else c_int(dv, PRIMS[t])))
        elif t == 'string':
            if dv is None:
                o('\t%s.len = -1;' % lhs)
            else:
                o('\t%s = kp_str_c(%s);' % (lhs, c_str_lit(dv)))
        elif t in ('bytes', 'records'):
            if dv is None:
                o('\t%s.len = -1;' % lhs)
    o('}')
    o()


def gen_is_default(o, st):
    o('static bool')
    o('%s_is_default(const struct %s *m)' % (st.cname, st.cname))
    o('{')
    if not st.fields:
        o('\t(void)m;')
    for f in st.fields:
        o('\tif (!(%s))' % is_default_expr(f, 'm->' + f.snake))
        o('\t\treturn false;')
    o('\treturn true;')
    o('}')
    o()


# ---------------------------------------------------------------- decode

def null_check(o, ind, f, lhs, cur, nullable_field=True):
    """After reading a nullable-capable value: reject null where the schema
    does not allow it (as Kafka does)."""
    if nullable_field:
        nc = cond(f.nullable, f.versions) if f.nullable is not None else 'false'
    else:
        nc = 'false'
    if nc is None:
        return
    test = '%s < 0' % lhs
    if nc != 'false':
        test += ' && !(%s)' % nc
    o('%sif (%s)' % (ind, test))
    o('%s\tkp_cursor_fail(%s, KP_WIRE_INVALID);' % (ind, cur))


def dec_prim(t, cur, flex):
    if t in RW:
        return 'kp_read_%s(%s)' % (RW[t], cur)
    if t == 'uuid':
        return 'kp_read_uuid(%s)' % cur
    if t == 'string':
        return 'kp_read_string(%s, %s)' % (cur, flex)
    return 'kp_read_bytes(%s, %s)' % (cur, flex)


def gen_dec_value(o, ind, f, lhs, cur, flex):
    if f.kind == 'prim':
        o('%s%s = %s;' % (ind, lhs, dec_prim(f.elem, cur, flex)))
        if f.elem in ('string', 'bytes', 'records'):
            null_check(o, ind, f, lhs + '.len', cur)
        return
    if f.kind == 'struct':
        o('%s(void)%s_decode(%s, version, &%s);' % (ind, f.struct.cname, cur, lhs))
        return
    o('%s%s.count = kp_read_array_len(%s, %s, KP_ARRAY_COUNT_MAX);' % (ind, lhs, cur, flex))
    null_check(o, ind, f, lhs + '.count', cur)
    o('%s%s.wire = (%s)->pos;' % (ind, lhs, cur))
    o('%sfor (int32_t i = 0; i < %s.count && (%s)->err == KP_WIRE_OK; i++) {'
      % (ind, lhs, cur))
    if f.struct is not None:
        o('%s\tstruct %s e;' % (ind, f.struct.cname))
        o('%s\t(void)%s_decode(%s, version, &e);' % (ind, f.struct.cname, cur))
    elif f.elem in ('string', 'bytes'):
        o('%s\t%s e = %s;' % (ind, PRIMS[f.elem], dec_prim(f.elem, cur, flex)))
        null_check(o, ind + '\t', f, 'e.len', cur, nullable_field=False)
    else:
        o('%s\t(void)%s;' % (ind, dec_prim(f.elem, cur, flex)))
    o('%s}' % ind)
    o('%s%s.wire_end = (%s)->pos;' % (ind, lhs, cur))


def gen_decode(o, st, msg):
    o('int')
    o('%s_decode(struct kp_cursor *c, int16_t version, struct %s *m)' % (st.cname, st.cname))
    o('{')
    o('\t%s_init(m);' % st.cname)
    o('\tif (version < %d || version > %d) {' % msg.valid)
    o('\t\tkp_cursor_fail(c, KP_WIRE_VERSION);')
    o('\t\treturn -1;')
    o('\t}')
    for f in st.fields:
        if f.tagged is not None or f.versions is None:
            continue
        c = cond(f.versions, msg.valid)
        fx = flex_expr(f, msg.valid)
        if c is None:
            gen_dec_value(o, '\t', f, 'm->' + f.snake, 'c', fx)
        else:
            o('\tif (%s) {' % c)
            gen_dec_value(o, '\t\t', f, 'm->' + f.snake, 'c', fx)
            o('\t}')
    if msg.flex is not None and intersect(msg.flex, msg.valid):
        tagged = sorted([f for f in st.fields if f.tagged is not None], key=lambda f: f.tag)
        fc = cond(msg.flex, msg.valid)
        ind = '\t' if fc is None else '\t\t'
        if fc is not None:
            o('\tif (%s) {' % fc)
        if not tagged:
            o('%skp_skip_tagged_fields(c);' % ind)
        else:
            o('%suint32_t tag_count = kp_read_tag_count(c);' % ind)
            o('%sint64_t tag_prev = -1;' % ind)
            o('%sfor (uint32_t t = 0; t < tag_count && c->err == KP_WIRE_OK; t++) {' % ind)
            o('%s\tuint32_t tag;' % ind)
            o('%s\tstruct kp_cursor sub = kp_read_tagged_field(c, &tag_prev, &tag);' % ind)
            o('%s\tif (c->err != KP_WIRE_OK)' % ind)
            o('%s\t\tbreak;' % ind)
            o('%s\tswitch (tag) {' % ind)
            for f in tagged:
                o('%s\tcase %d:' % (ind, f.tag))
                tc = cond(f.tagged, msg.valid)
                ind2 = ind + '\t\t'
                if tc is not None:
                    o('%s\t\tif (!(%s))' % (ind, tc))
                    o('%s\t\t\tbreak;' % ind)
                gen_dec_value(o, ind2, f, 'm->' + f.snake, '&sub', 'true')
                o('%skp_tagged_field_end(c, &sub);' % ind2)
                o('%sbreak;' % ind2)
            o('%s\tdefault:' % ind)
            o('%s\t\tbreak;   /* unknown tags are skipped */' % ind)
            o('%s\t}' % ind)
            o('%s}' % ind)
        if fc is not None:
            o('\t}')
    o('\treturn c->err == KP_WIRE_OK ? 0 : -1;')
    o('}')
    o()


# ---------------------------------------------------------------- encode

def enc_prim(t, expr, flex):
    if t in RW:
        return 'kp_write_%s(w, %s);' % (RW[t], expr)
    if t == 'uuid':
        return 'kp_write_uuid(w, &%s);' % expr
    if t == 'string':
        return 'kp_write_string(w, %s, %s);' % (expr, flex)
    return 'kp_write_bytes(w, %s, %s);' % (expr, flex)


def enc_null_check(o, ind, f, lhs):
    nc = cond(f.nullable, f.versions) if f.nullable is not None else 'false'
    if nc is None:
        return
    test = '%s < 0' % lhs
    if nc != 'false':
        test += ' && !(%s)' % nc
    o('%sif (%s)' % (ind, test))
    o('%s\tkp_writer_fail(w, KP_WIRE_INVALID);   /* null where the schema forbids it */'
      % ind)


def gen_enc_value(o, ind, f, lhs, flex):
    if f.kind == 'prim':
        if f.elem in ('string', 'bytes', 'records'):
            enc_null_check(o, ind, f, lhs + '.len')
        o('%s%s' % (ind, enc_prim(f.elem, lhs, flex)))
        return
    if f.kind == 'struct':
        o('%s%s_encode(w, version, &%s);' % (ind, f.struct.cname, lhs))
        return
    et = elem_ctype(f)
    enc_null_check(o, ind, f, lhs + '.count')
    o('%skp_write_array_len(w, %s.count, %s);' % (ind, lhs, flex))
    o('%sif (%s.items != NULL) {' % (ind, lhs))
    o('%s\tconst %s *items = %s.items;' % (ind, et, lhs))
    o('%s\tfor (int32_t i = 0; i < %s.count; i++)' % (ind, lhs))
    if f.struct is not None:
        o('%s\t\t%s_encode(w, version, &items[i]);' % (ind, f.struct.cname))
    else:
        if f.elem == 'string':
            o('%s\t\tif (items[i].len < 0)' % ind)
            o('%s\t\t\tkp_writer_fail(w, KP_WIRE_INVALID);' % ind)
            o('%s\t\telse' % ind)
            o('%s\t\t\t%s' % (ind, enc_prim(f.elem, 'items[i]', flex)))
        else:
            o('%s\t\t%s' % (ind, enc_prim(f.elem, 'items[i]', flex)))
    o('%s} else if (%s.count > 0 && %s.wire == NULL) {' % (ind, lhs, lhs))
    o('%s\t/* No elements at all: a scratch writer that failed (kp_array_wire). */' % ind)
    o('%s\tkp_writer_fail(w, KP_WIRE_INVALID);' % ind)
    o('%s} else if (%s.count > 0) {' % (ind, lhs))
    o('%s\t/* Wire elements are encodings at this same version, validated when' % ind)
    o('%s\t * decoded (or written by our encoder): copy them as they are. */' % ind)
    o('%s\tkp_write_raw(w, %s.wire, (size_t)(%s.wire_end - %s.wire));' % (ind, lhs, lhs, lhs))
    o('%s}' % ind)


def gen_encode(o, st, msg):
    o('void')
    o('%s_encode(struct kp_writer *w, int16_t version, const struct %s *m)'
      % (st.cname, st.cname))
    o('{')
    o('\tif (version < %d || version > %d) {' % msg.valid)
    o('\t\tkp_writer_fail(w, KP_WIRE_VERSION);')
    o('\t\treturn;')
    o('\t}')
    for f in st.fields:
        lhs = 'm->' + f.snake
        c = cond(f.versions, msg.valid) if f.versions else 'false'
        if f.tagged is not None:
            c = 'false'     # written in the tagged section below
        if c is None:
            gen_enc_value(o, '\t', f, lhs, flex_expr(f, msg.valid))
            continue
        if c != 'false':
            o('\tif (%s) {' % c)
            gen_enc_value(o, '\t\t', f, lhs, flex_expr(f, msg.valid))
            o('\t}')
        if not f.ignorable:
            absent = 'true' if f.versions is None else cond_not(f.versions, msg.valid)
            if f.tagged is not None:
                absent = None   # handled below with the tagged fields
            if absent is not None:
                o('\tif (%s && !(%s))' % (paren(absent), is_default_expr(f, lhs)))
                o('\t\tkp_writer_fail(w, KP_WIRE_VERSION);   /* not ignorable */')
    if msg.flex is not None and intersect(msg.flex, msg.valid):
        tagged = sorted([f for f in st.fields if f.tagged is not None], key=lambda f: f.tag)
        fc = cond(msg.flex, msg.valid)
        ind = '\t' if fc is None else '\t\t'
        if fc is not None:
            o('\tif (%s) {' % fc)
        if not tagged:
            o('%skp_write_uvarint(w, 0);' % ind)
        else:
            o('%suint32_t tag_count = 0;' % ind)
            for f in tagged:
                o('%sif (%s)' % (ind, tag_present(f, msg)))
                o('%s\ttag_count++;' % ind)
            o('%skp_write_uvarint(w, tag_count);' % ind)
            for f in tagged:
                o('%sif (%s) {' % (ind, tag_present(f, msg)))
                o('%s\tsize_t at = kp_write_tagged_begin(w, %d);' % (ind, f.tag))
                gen_enc_value(o, ind + '\t', f, 'm->' + f.snake, 'true')
                o('%s\tkp_write_tagged_end(w, at);' % ind)
                o('%s}' % ind)
        if fc is not None:
            o('\t}')
    # Non-ignorable tagged fields set in versions without them.
    for f in st.fields:
        if f.tagged is None or f.ignorable:
            continue
        absent = cond_not(f.tagged, msg.valid)
        if absent is not None:
            o('\tif (%s && !(%s))' % (paren(absent), is_default_expr(f, 'm->' + f.snake)))
            o('\t\tkp_writer_fail(w, KP_WIRE_VERSION);   /* not ignorable */')
    o('}')
    o()


def paren(e):
    return '(%s)' % e if '||' in e else e


def tag_present(f, msg):
    tc = cond(f.tagged, msg.valid)
    nd = '!(%s)' % is_default_expr(f, 'm->' + f.snake)
    return nd if tc is None else '%s && %s' % (tc, nd)


def cond_not(rng, within):
    """C condition for `version` (in within) being outside rng; None if never."""
    r = intersect(rng, within)
    if r is None:
        return 'true'
    parts = []
    if r[0] > within[0]:
        parts.append('version < %d' % r[0])
    if r[1] < within[1]:
        parts.append('version > %d' % r[1])
    if not parts:
        return None
    return ' || '.join(parts)


# ---------------------------------------------------------------- test fill

def gen_fill(o, st, msg):
    o('static void')
    o('fill_%s(struct %s *m, int16_t version, struct kp_test_arena *a)'
      % (st.cname, st.cname))
    o('{')
    o('\t%s_init(m);' % st.cname)
    o('\t(void)version;')
    o('\t(void)a;')
    for f in st.fields:
        if f.versions is None:
            continue
        c = cond(f.versions, msg.valid)
        ind = '\t'
        if c is not None:
            o('\tif (%s) {' % c)
            ind = '\t\t'
        gen_fill_value(o, ind, f, 'm->' + f.snake, msg)
        if c is not None:
            o('\t}')
    o('}')
    o()


def fill_prim(t, f, msg):
    msg.fill_counter += 1
    k = msg.fill_counter
    dv = parse_default(f) if f is not None else None
    if t == 'bool':
        return 'false' if dv else 'true'
    if t == 'float64':
        return repr(1.5 + k)
    if t in ('int8', 'int16', 'uint16', 'int32', 'uint32', 'int64'):
        if t == 'int8':
            v = k % 100 + 1
        elif t in ('int16', 'uint16'):
            v = 300 + k
        elif t in ('int32', 'uint32'):
            v = 70000 + k
        else:
            v = (1 << 40) + k
        if dv is not None and v == dv:
            v += 1
        return c_int(v, PRIMS[t])
    if t == 'string':
        return 'kp_str_c("s%d")' % k
    if t in ('bytes', 'records'):
        return 'kp_test_bytes(%d)' % (k % 7 + 1)
    if t == 'uuid':
        return 'kp_test_uuid(%d)' % k
    raise SystemExit(t)


def gen_fill_value(o, ind, f, lhs, msg):
    if f.kind == 'prim':
        o('%s%s = %s;' % (ind, lhs, fill_prim(f.elem, f, msg)))
        return
    if f.kind == 'struct':
        o('%sfill_%s(&%s, version, a);' % (ind, f.struct.cname, lhs))
        return
    et = elem_ctype(f)
    o('%s{' % ind)
    o('%s\t%s *items = kp_test_arena_alloc(a, 2 * sizeof(*items));' % (ind, et))
    if f.struct is not None:
        o('%s\tfill_%s(&items[0], version, a);' % (ind, f.struct.cname))
        o('%s\tfill_%s(&items[1], version, a);' % (ind, f.struct.cname))
    else:
        o('%s\titems[0] = %s;' % (ind, fill_prim(f.elem, None, msg)))
        o('%s\titems[1] = %s;' % (ind, fill_prim(f.elem, None, msg)))
    o('%s\t%s.items = items;' % (ind, lhs))
    o('%s\t%s.count = 2;' % (ind, lhs))
    o('%s}' % ind)


# ---------------------------------------------------------------- files

class Gen:
    def __init__(self, schema_dir):
        self.schema_dir = schema_dir
        self.sha = self.schema_sha()
        self.files = {}
        self.test_files = {}

    def schema_sha(self):
        src = os.path.join(self.schema_dir, '..', 'SOURCE.md')
        try:
            with open(src, encoding='utf-8') as f:
                m = re.search(r'\b([0-9a-f]{40})\b', f.read())
            if m:
                return m.group(1)
        except OSError:
            pass
        return 'unknown'

    def banner(self, what):
        return ('/* generated by protocol/gen/kp_gen.py from the Kafka message schemas '
                '(apache/kafka commit %s); do not edit */\n'
                '/* SPDX-License-Identifier: Apache-2.0 */\n%s' % (self.sha, what))

    def load(self, name):
        return Message(load_json(os.path.join(self.schema_dir, name + '.json')))

    def emit_pair(self, stem, msgs, what):
        guard = 'PROTOCOL_GEN_%s_H' % stem.upper()
        h = Out()
        h(self.banner(what))
        h('#ifndef %s' % guard)
        h('#define %s' % guard)
        h()
        h('#include <stdbool.h>')
        h('#include <stdint.h>')
        h()
        h('#include "protocol/kp_wire.h"')
        h()
        for msg in msgs:
            h('/* %s: versions %d-%d, %s. */' % (
                msg.name, msg.valid[0], msg.valid[1],
                'flexible from v%d' % msg.flex[0] if msg.flex else 'never flexible'))
            for st in all_structs(msg):
                gen_struct_decl(h, st)
            for st in all_structs(msg):
                gen_protos(h, st)
                h()
        h('#endif')
        self.files[stem + '.h'] = h.text()

        c = Out()
        c(self.banner(what))
        c('#include "protocol/gen/%s.h"' % stem)
        c()
        c('#include <string.h>')
        c()
        for msg in msgs:
            for st in all_structs(msg):
                gen_init(c, st)
                if st.used_inline:
                    gen_is_default(c, st)
                gen_decode(c, st, msg)
                gen_encode(c, st, msg)
        self.files[stem + '.c'] = c.text()

    def run(self):
        self.apis = []
        for api in APIS:
            req = self.load(api + 'Request')
            resp = self.load(api + 'Response')
            if req.api_key != resp.api_key or req.valid != resp.valid:
                raise SystemExit('%s: request/response disagree' % api)
            stem = 'kp_msg_' + snake(api)
            self.emit_pair(stem, [req, resp],
                           '/* %s (api key %d): request and response structs with\n'
                           ' * init/decode/encode for every valid version. Decoding is\n'
                           ' * zero-copy and allocates nothing. */\n'
                           % (api, req.api_key))
            self.apis.append((api, req, resp, stem))
        hdrs = [self.load(n) for n in HEADERS]
        self.emit_pair('kp_msg_header', hdrs,
                       '/* Request header (v0-2) and response header (v0-1). ClientId\n'
                       ' * keeps its int16 length even in the flexible v2 header. */\n')
        self.headers = hdrs
        self.emit_api()
        self.emit_test_fill()
        return self.files, self.test_files

    def emit_api(self):
        apis = sorted(self.apis, key=lambda a: a[1].api_key)
        h = Out()
        h(self.banner('/* The generated API table: keys, valid and flexible versions, header\n'
                      ' * versions, and decode/round-trip dispatch by api key for tests\n'
                      ' * and fuzzing. */\n'))
        h('#ifndef PROTOCOL_GEN_KP_API_H')
        h('#define PROTOCOL_GEN_KP_API_H')
        h()
        h('#include <stddef.h>')
        h('#include <stdint.h>')
        h()
        h('#include "protocol/kp_wire.h"')
        h()
        h('enum kp_api_key {')
        for api, req, _, _ in apis:
            h('\tKP_API_%s = %d,' % (snake(api).upper(), req.api_key))
        h('};')
        h()
        h('#define KP_API_GENERATED_COUNT %d' % len(apis))
        h()
        h('struct kp_api_info {')
        h('\tint16_t key;')
        h('\tconst char *name;                /* schema name without Request */')
        h('\tint16_t min_version;')
        h('\tint16_t max_version;')
        h('\tint16_t request_flexible_min;    /* -1: never flexible */')
        h('\tint16_t response_flexible_min;   /* -1: never flexible */')
        h('};')
        h()
        h('/* NULL for an api key that is not generated. */')
        h('const struct kp_api_info *kp_api_info_get(int16_t api_key);')
        h('/* The generated APIs in api-key order; *count = KP_API_GENERATED_COUNT. */')
        h('const struct kp_api_info *kp_api_info_list(size_t *count);')
        h('/* Header versions for an api version (-1 if the api is not generated):')
        h(' * request header 2 when the request is flexible, else 1; response')
        h(' * header 1 when flexible, else 0, except ApiVersions, always 0 (KIP-511). */')
        h('int16_t kp_request_header_version(int16_t api_key, int16_t version);')
        h('int16_t kp_response_header_version(int16_t api_key, int16_t version);')
        h('/* Decode a body into a stack struct: 0, or -1 with c->err set')
        h(' * (KP_WIRE_VERSION for an unknown api key or version). */')
        h('int kp_request_decode_any(int16_t api_key, int16_t version, struct kp_cursor *c);')
        h('int kp_response_decode_any(int16_t api_key, int16_t version, struct kp_cursor *c);')
        h('/* Decode a body and encode it again into w: 0, or -1 when decoding')
        h(' * failed (c->err) or encoding failed (w->err). */')
        h('int kp_request_roundtrip_any(int16_t api_key, int16_t version, struct kp_cursor *c,')
        h('\t\t\t     struct kp_writer *w);')
        h('int kp_response_roundtrip_any(int16_t api_key, int16_t version, struct kp_cursor *c,')
        h('\t\t\t      struct kp_writer *w);')
        h()
        h('#endif')
        self.files['kp_api.h'] = h.text()

        c = Out()
        c(self.banner('/* API table and dispatch-by-key helpers over the generated codec. */\n'))
        c('#include "protocol/gen/kp_api.h"')
        c()
        for _, _, _, stem in sorted(self.apis, key=lambda a: a[3]):
            c('#include "protocol/gen/%s.h"' % stem)
        c()
        c('static const struct kp_api_info kp_api_table[KP_API_GENERATED_COUNT] = {')
        for api, req, resp, _ in apis:
            rf = req.flex[0] if req.flex and intersect(req.flex, req.valid) else -1
            pf = resp.flex[0] if resp.flex and intersect(resp.flex, resp.valid) else -1
            c('\t{ KP_API_%s, "%s", %d, %d, %d, %d },' % (
                snake(api).upper(), api, req.valid[0], req.valid[1], rf, pf))
        c('};')
        c()
        c('const struct kp_api_info *')
        c('kp_api_info_get(int16_t api_key)')
        c('{')
        c('\tfor (size_t i = 0; i < KP_API_GENERATED_COUNT; i++)')
        c('\t\tif (kp_api_table[i].key == api_key)')
        c('\t\t\treturn &kp_api_table[i];')
        c('\treturn NULL;')
        c('}')
        c()
        c('const struct kp_api_info *')
        c('kp_api_info_list(size_t *count)')
        c('{')
        c('\t*count = KP_API_GENERATED_COUNT;')
        c('\treturn kp_api_table;')
        c('}')
        c()
        c('int16_t')
        c('kp_request_header_version(int16_t api_key, int16_t version)')
        c('{')
        c('\tconst struct kp_api_info *api = kp_api_info_get(api_key);')
        c()
        c('\tif (api == NULL)')
        c('\t\treturn -1;')
        c('\treturn api->request_flexible_min >= 0 && version >= api->request_flexible_min'
          ' ? 2 : 1;')
        c('}')
        c()
        c('int16_t')
        c('kp_response_header_version(int16_t api_key, int16_t version)')
        c('{')
        c('\tconst struct kp_api_info *api = kp_api_info_get(api_key);')
        c()
        c('\tif (api == NULL)')
        c('\t\treturn -1;')
        c('\tif (api_key == KP_API_API_VERSIONS)')
        c('\t\treturn 0;')
        c('\treturn api->response_flexible_min >= 0 && version >= api->response_flexible_min'
          ' ? 1 : 0;')
        c('}')
        c()
        for side, idx in (('request', 1), ('response', 2)):
            c('int')
            c('kp_%s_decode_any(int16_t api_key, int16_t version, struct kp_cursor *c)' % side)
            c('{')
            c('\tswitch (api_key) {')
            for a in apis:
                msg = a[idx]
                c('\tcase KP_API_%s: {' % snake(a[0]).upper())
                c('\t\tstruct %s m;' % msg.cname)
                c('\t\treturn %s_decode(c, version, &m);' % msg.cname)
                c('\t}')
            c('\tdefault:')
            c('\t\tkp_cursor_fail(c, KP_WIRE_VERSION);')
            c('\t\treturn -1;')
            c('\t}')
            c('}')
            c()
            c('int')
            c('kp_%s_roundtrip_any(int16_t api_key, int16_t version, struct kp_cursor *c,' % side)
            c('\t\t%sstruct kp_writer *w)' % ('' if side == 'request' else ' '))
            c('{')
            c('\tswitch (api_key) {')
            for a in apis:
                msg = a[idx]
                c('\tcase KP_API_%s: {' % snake(a[0]).upper())
                c('\t\tstruct %s m;' % msg.cname)
                c('\t\tif (%s_decode(c, version, &m) != 0)' % msg.cname)
                c('\t\t\treturn -1;')
                c('\t\t%s_encode(w, version, &m);' % msg.cname)
                c('\t\treturn w->err == KP_WIRE_OK ? 0 : -1;')
                c('\t}')
            c('\tdefault:')
            c('\t\tkp_cursor_fail(c, KP_WIRE_VERSION);')
            c('\t\treturn -1;')
            c('\t}')
            c('}')
            c()
        self.files['kp_api.c'] = c.text()

    def emit_test_fill(self):
        apis = sorted(self.apis, key=lambda a: a[1].api_key)
        h = Out()
        h(self.banner('/* Test support only (never linked into the broker): fill every\n'
                      ' * field present in a version with a non-default value and encode\n'
                      ' * it, for the round-trip tests. Arrays get two elements carved\n'
                      ' * from a caller-provided arena. */\n'))
        h('#ifndef TESTS_UNIT_PROTOCOL_GEN_KP_TEST_FILL_H')
        h('#define TESTS_UNIT_PROTOCOL_GEN_KP_TEST_FILL_H')
        h()
        h('#include <stddef.h>')
        h('#include <stdint.h>')
        h()
        h('#include "protocol/kp_wire.h"')
        h()
        h('struct kp_test_arena {')
        h('\tuint8_t *buf;')
        h('\tsize_t used;')
        h('\tsize_t cap;')
        h('};')
        h()
        h('/* Aborts when the arena is exhausted (a test setup bug). */')
        h('void *kp_test_arena_alloc(struct kp_test_arena *a, size_t n);')
        h('/* Fill a message of api_key at version with non-default values in every')
        h(' * field that version has, then encode it into w. 0, or -1 when the api')
        h(' * is not generated or encoding failed. */')
        h('int kp_request_encode_test_any(int16_t api_key, int16_t version,')
        h('\t\t\t       struct kp_test_arena *a, struct kp_writer *w);')
        h('int kp_response_encode_test_any(int16_t api_key, int16_t version,')
        h('\t\t\t\tstruct kp_test_arena *a, struct kp_writer *w);')
        h('/* The same for the headers (request header v0-2, response header v0-1). */')
        h('int kp_request_header_encode_test(int16_t version, struct kp_test_arena *a,')
        h('\t\t\t\t  struct kp_writer *w);')
        h('int kp_response_header_encode_test(int16_t version, struct kp_test_arena *a,')
        h('\t\t\t\t   struct kp_writer *w);')
        h()
        h('#endif')
        self.test_files['kp_test_fill.h'] = h.text()

        c = Out()
        c(self.banner('/* Test-only fill helpers; see kp_test_fill.h. */\n'))
        c('#include "tests/unit/protocol/gen/kp_test_fill.h"')
        c()
        c('#include <stdio.h>')
        c('#include <stdlib.h>')
        c()
        c('#include "protocol/gen/kp_api.h"')
        for _, _, _, stem in sorted(self.apis, key=lambda a: a[3]):
            c('#include "protocol/gen/%s.h"' % stem)
        c('#include "protocol/gen/kp_msg_header.h"')
        c()
        c('static const uint8_t kp_test_byte_pool[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };')
        c()
        c('void *')
        c('kp_test_arena_alloc(struct kp_test_arena *a, size_t n)')
        c('{')
        c('\tsize_t at = (a->used + 15) & ~(size_t)15;')
        c()
        c('\tif (at > a->cap || a->cap - at < n) {')
        c('\t\tfprintf(stderr, "kp_test_arena_alloc: arena exhausted\\n");')
        c('\t\tabort();')
        c('\t}')
        c('\ta->used = at + n;')
        c('\treturn a->buf + at;')
        c('}')
        c()
        c('static struct kp_bytes')
        c('kp_test_bytes(int32_t n)')
        c('{')
        c('\tstruct kp_bytes b = { kp_test_byte_pool, n };')
        c('\treturn b;')
        c('}')
        c()
        c('static struct kp_uuid')
        c('kp_test_uuid(int k)')
        c('{')
        c('\tstruct kp_uuid u;')
        c()
        c('\tfor (int i = 0; i < 16; i++)')
        c('\t\tu.b[i] = (uint8_t)(k + i);')
        c('\treturn u;')
        c('}')
        c()
        msgs = [m for a in apis for m in (a[1], a[2])] + self.headers
        for msg in msgs:
            for st in all_structs(msg):
                gen_fill(c, st, msg)
        for side, idx in (('request', 1), ('response', 2)):
            c('int')
            c('kp_%s_encode_test_any(int16_t api_key, int16_t version,' % side)
            c('\t\t\t%sstruct kp_test_arena *a, struct kp_writer *w)'
              % ('' if side == 'request' else ' '))
            c('{')
            c('\tswitch (api_key) {')
            for a in apis:
                msg = a[idx]
                c('\tcase KP_API_%s: {' % snake(a[0]).upper())
                c('\t\tstruct %s m;' % msg.cname)
                c('\t\tfill_%s(&m, version, a);' % msg.cname)
                c('\t\t%s_encode(w, version, &m);' % msg.cname)
                c('\t\treturn w->err == KP_WIRE_OK ? 0 : -1;')
                c('\t}')
            c('\tdefault:')
            c('\t\treturn -1;')
            c('\t}')
            c('}')
            c()
        for msg in self.headers:
            c('int')
            c('%s_encode_test(int16_t version, struct kp_test_arena *a, struct kp_writer *w)'
              % msg.cname)
            c('{')
            c('\tstruct %s m;' % msg.cname)
            c()
            c('\tfill_%s(&m, version, a);' % msg.cname)
            c('\t%s_encode(w, version, &m);' % msg.cname)
            c('\treturn w->err == KP_WIRE_OK ? 0 : -1;')
            c('}')
            c()
        self.test_files['kp_test_fill.c'] = c.text()


def check_dir(files, out):
    """Diff freshly generated files against out; 1 on any difference."""
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in sorted(files.items()):
            with open(os.path.join(tmp, name), 'w', encoding='utf-8') as f:
                f.write(text)
        for name in sorted(files):
            with open(os.path.join(tmp, name), encoding='utf-8') as f:
                fresh = f.read()
            try:
                with open(os.path.join(out, name), encoding='utf-8') as f:
                    old = f.read()
            except OSError:
                print('missing: %s' % os.path.join(out, name))
                bad = 1
                continue
            if fresh != old:
                bad = 1
                sys.stdout.writelines(difflib.unified_diff(
                    old.splitlines(True), fresh.splitlines(True),
                    'committed/' + name, 'fresh/' + name))
    for name in sorted(os.listdir(out)):
        if re.match(r'kp_.*\.[ch]$', name) and name not in files:
            print('stale generated file: %s' % os.path.join(out, name))
            bad = 1
    try:
        with open(os.path.join(out, 'meson.build'), encoding='utf-8') as f:
            mb = f.read()
        for name in sorted(files):
            if name.endswith('.c') and "'%s'" % name not in mb:
                print('%s/meson.build does not list %s' % (out, name))
                bad = 1
    except OSError:
        pass
    return bad


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description='Generate the Kafka codec from the schemas.')
    ap.add_argument('schema_dir', nargs='?',
                    default=os.path.join(root, '..', 'shared', 'kafka-protocol', 'messages'))
    ap.add_argument('--out', default=here)
    ap.add_argument('--test-out', default=os.path.join(root, 'tests', 'unit', 'protocol', 'gen'))
    ap.add_argument('--check', action='store_true')
    args = ap.parse_args()

    files, test_files = Gen(args.schema_dir).run()
    outputs = [(files, args.out), (test_files, args.test_out)]
    if not args.check:
        for out_files, out in outputs:
            for name, text in sorted(out_files.items()):
                with open(os.path.join(out, name), 'w', encoding='utf-8') as f:
                    f.write(text)
        return 0

    bad = 0
    for out_files, out in outputs:
        bad |= check_dir(out_files, out)
    print('codegen-fresh: %s' % ('DIFFERENT' if bad else 'up to date'))
    return bad


if __name__ == '__main__':
    sys.exit(main())
