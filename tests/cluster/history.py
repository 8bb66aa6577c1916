# SPDX-License-Identifier: Apache-2.0
"""The history checker: every send and acknowledgement of every producer and
every consumed record, then the verdict.

A record's value names it: b"<producer>:<seq>" (seq counts up per producer
from 0, in send order). check() over the consumed records (from any number
of consumers; the same offset read twice is one record) finds:
  lost        acknowledged records nowhere in the log
  moved       acknowledged at (partition, offset) but that offset holds
              another record or none (the log was truncated under it); an
              acknowledgement without an offset (librdkafka's implicit ack:
              a later batch of the same idempotent producer succeeded, so
              this one is in the log, at an offset it never learnt) only
              requires the record in that partition
  duplicated  one record at two offsets (an idempotent producer must not,
              unless its client bumped its epoch: excuse_epoch_bumps())
  reordered   a producer's records in one partition out of send order
  phantom     consumed records no producer sent
Records whose send failed or is unresolved may be present or absent."""
import threading
from collections import defaultdict


def value_of(producer, seq):
    return f"{producer}:{seq}".encode()


def parse_value(v):
    try:
        producer, seq = v.decode().rsplit(":", 1)
        return producer, int(seq)
    except (AttributeError, UnicodeDecodeError, ValueError):
        return None


class History:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = {}          # (producer, seq) -> (topic, key)
        self.acked = {}         # (producer, seq) -> (topic, partition, offset)
        self.failed = {}        # (producer, seq) -> error string
        self.consumed = {}      # (topic, partition, offset) -> value bytes

    # -- recording -------------------------------------------------------------
    def send(self, producer, seq, topic, key):
        with self.lock:
            self.sent[(producer, seq)] = (topic, key)

    def ack(self, producer, seq, topic, partition, offset):
        with self.lock:
            self.acked[(producer, seq)] = (topic, partition, offset)

    def fail(self, producer, seq, error):
        with self.lock:
            self.failed[(producer, seq)] = str(error)

    def consume(self, topic, partition, offset, value):
        """One consumed record; returns False when this offset was read
        before with a different value (two readers disagree on the log)."""
        with self.lock:
            k = (topic, partition, offset)
            old = self.consumed.setdefault(k, value)
            return old == value

    # -- verdict -----------------------------------------------------------------
    def check(self):
        """A Verdict over everything recorded so far."""
        with self.lock:
            return Verdict(self)


def _acked_at(ack, locs):
    """True when the record's consumed locations match its acknowledgement
    (offset None: any offset of that partition)."""
    if ack[2] is None:
        return any(loc[:2] == ack[:2] for loc in locs)
    return ack in locs


class Verdict:
    LIMIT = 10

    def __init__(self, h):
        at = defaultdict(list)              # (producer, seq) -> [(topic, partition, offset)]
        per_part = defaultdict(list)        # (topic, partition, producer) -> [(offset, seq)]
        self.phantom = []
        for (t, p, off), v in h.consumed.items():
            rid = parse_value(v)
            if rid is None or rid not in h.sent:
                self.phantom.append(((t, p, off), v))
                continue
            at[rid].append((t, p, off))
            per_part[(t, p, rid[0])].append((off, rid[1]))
        self.lost = sorted(r for r in h.acked if r not in at)
        self.moved = sorted((r, h.acked[r], at[r]) for r in h.acked
                            if r in at and not _acked_at(h.acked[r], at[r]))
        self.duplicated = sorted((r, locs) for r, locs in at.items() if len(locs) > 1)
        self.client_dups = []
        self._per_part = per_part
        self.reordered = self._reorders(set())
        self.counts = {"sent": len(h.sent), "acked": len(h.acked), "failed": len(h.failed),
                       "unresolved": len(h.sent) - len(h.acked) - len(h.failed),
                       "consumed": len(h.consumed), "distinct": len(at)}

    def _reorders(self, later_copies):
        """The first out-of-order pair per (topic, partition, producer),
        leaving out the locations in later_copies."""
        out = []
        for key, recs in self._per_part.items():
            recs = sorted(r for r in recs if (key[0], key[1], r[0]) not in later_copies)
            for a, b in zip(recs, recs[1:]):
                if b[1] <= a[1]:
                    out.append((key, a, b))
                    break
        return out

    def excuse_epoch_bumps(self, producers):
        """Duplicates of the named producers, whose client bumped its epoch
        during the run, are the client's (librdkafka #4953): an epoch bump
        starts the sequence again, and a record it still held as not written
        (a NOT_ENOUGH_REPLICAS answer to the retry of a batch already in the
        log, as Kafka gives too: test_min_isr.py) is sent again as a new one,
        which no broker can tell apart. They move to client_dups; the later
        copies leave the order check, which still runs on the rest."""
        names = set(producers)
        keep, later = [], set()
        for r, locs in self.duplicated:
            if r[0] in names:
                self.client_dups.append((r, locs))
                later.update(sorted(locs, key=lambda loc: loc[2])[1:])
            else:
                keep.append((r, locs))
        self.duplicated = keep
        self.reordered = self._reorders(later)

    def ok(self):
        return not (self.lost or self.moved or self.duplicated or self.reordered
                    or self.phantom)

    def __str__(self):
        parts = [f"counts {self.counts}"]
        for name in ("lost", "moved", "duplicated", "reordered", "phantom", "client_dups"):
            items = getattr(self, name)
            if items:
                parts.append(f"{name} ({len(items)}): {items[:self.LIMIT]}")
        return "; ".join(parts)

    def assert_ok(self, min_acked=1):
        assert self.ok(), f"history check failed: {self}"
        assert self.counts["acked"] >= min_acked, f"too few acknowledged records: {self}"
