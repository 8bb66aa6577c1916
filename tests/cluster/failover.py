# SPDX-License-Identifier: Apache-2.0
"""What the failover, min-ISR and rolling-restart tests share: replicated
topics under acks=all load, and the verdict once every broker is back."""
import uuid

import load
from history import History

RF = 3
MIN_ISR = 2


def make_topics(cluster, prefix, count=2, parts=6):
    names = [f"{prefix}-{i}-{uuid.uuid4().hex[:6]}" for i in range(count)]
    cluster.create_topics(names, parts, RF, {"min.insync.replicas": str(MIN_ISR)})
    cluster.wait_full_isr(names, RF, timeout=60)
    return names


class Load:
    """Two idempotent acks=all producers over topics, recorded in one History."""

    def __init__(self, cluster, topics, producers=2, rate=200):
        self.cluster, self.topics = cluster, topics
        self.history = History()
        self.producers = [load.ProducerLoad(f"p{i}", cluster.bootstrap(), topics,
                                            self.history, rate=rate)
                          for i in range(producers)]
        for p in self.producers:
            p.start()

    def acked(self):
        with self.history.lock:
            return len(self.history.acked)

    def wait_progress(self, more=100, timeout=60, what="acknowledgements"):
        """Wait until `more` further records are acknowledged (the cluster
        takes acks=all writes in its current state)."""
        from harness import wait_for
        start = self.acked()
        wait_for(lambda: self.acked() >= start + more, timeout,
                 f"{more} more {what} (had {start})")

    def finish(self, min_acked=500):
        """Stop the producers, wait for a full ISR everywhere, read every
        partition back through every broker, and check the history."""
        for p in self.producers:
            left = p.stop()
            assert left == 0, f"{p.name}: {left} records unacknowledged after flush"
        load.assert_only_retriable(self.producers)
        self.cluster.wait_full_isr(self.topics, RF, timeout=90)
        ends = self.cluster.end_offsets(self.topics)
        for b in self.cluster.brokers.values():
            load.consume_all(b.bootstrap, self.topics, self.history, ends)
        v = self.history.check()
        print(f"history: {v}")          # shown with -s or on failure
        for p in self.producers:
            print(f"{p.name} producer id/epoch changes: {p.pid_changes}")
        v.excuse_epoch_bumps(p.name for p in self.producers if p.pid_changes)
        if v.client_dups:
            print(f"duplicates after a client epoch bump (librdkafka #4953): {v.client_dups}")
        v.assert_ok(min_acked=min_acked)
        return v
