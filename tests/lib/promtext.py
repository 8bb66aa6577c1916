# SPDX-License-Identifier: Apache-2.0
"""Prometheus text exposition (what the broker's /metrics serves) parsed for
the tests that read it: the integration suite's metrics test and the
hostile suite's broker gauges (spwbroker.py)."""
import re

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text, strict=False):
    """{(name, frozenset(labels)): value} for every sample line; strict:
    an AssertionError on a line that is neither a comment nor a sample
    (else such a line is skipped)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m or not strict, f"bad sample line: {line!r}"
        if m:
            labels = frozenset(LABEL.findall(m.group(3) or ""))
            out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(samples, name, **labels):
    """One sample's value; 0.0 when absent."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def family(samples, name):
    """Sum of a family over its label sets; None when it is not exported."""
    vals = [v for (n, _), v in samples.items() if n == name]
    return sum(vals) if vals else None
