# SPDX-License-Identifier: Apache-2.0
"""A rolling restart under acks=all load: each broker in turn is stopped
with SIGTERM (a clean, controlled shutdown: it exits by itself), started
again, and waited for until it is back in every ISR. The producers see only
retriable errors; nothing acknowledged is lost, duplicated or reordered."""
import failover as fo


def test_rolling_restart(cluster_factory):
    c = cluster_factory(3)
    topics = fo.make_topics(c, "roll")
    ld = fo.Load(c, topics)
    ld.wait_progress(200)
    for b in list(c.brokers.values()):
        rc = b.term(timeout=30)
        assert rc is not None, f"broker {b.id} did not exit within 30 s of SIGTERM"
        if c.backend != "kafka":        # the JVM exits 143 after its shutdown hooks
            assert rc == 0, f"broker {b.id} exited {rc} on SIGTERM:\n{b.log_tail()}"
        c.wait_leaders_not(topics, {b.id})
        ld.wait_progress(100, what=f"acks with broker {b.id} stopped")
        b.start()
        c.wait_formed(timeout=60, ids=[1, 2, 3])
        c.wait_full_isr(topics, fo.RF, timeout=90)
        ld.wait_progress(100, what=f"acks after broker {b.id} restarted")
    ld.finish()
