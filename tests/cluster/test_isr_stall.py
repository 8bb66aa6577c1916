# SPDX-License-Identifier: Apache-2.0
"""A follower that stops fetching (SIGSTOP, its ZooKeeper session still
alive) leaves the ISR of an empty partition after replica.lag.time.max.ms
and stays out until it fetches again. The leader's ISR timer once added it
back at the next pass (its log end 0 was "at" the high watermark 0) and
dropped it at the one after, so the ISR flapped every half second."""
import time
import uuid

import harness


def test_stalled_follower_stays_out_of_the_isr(cluster_factory):
    c = cluster_factory(3, {"zookeeper.session.timeout.ms": 20000})
    topic = f"stall-{uuid.uuid4().hex[:6]}"
    c.create_topics([topic], 1, 3)
    c.wait_full_isr([topic], 3, timeout=30)
    leader = c.leader(topic, 0)
    victim = next(i for i in c.brokers if i != leader)
    lb = c.brokers[leader]

    def isr():
        return lb.metadata([topic]).topics[topic].partitions[0].isr

    c.brokers[victim].pause()
    try:
        harness.wait_for(lambda: victim not in isr(), 20,
                         f"broker {victim} out of the ISR of leader {leader}")
        seen = []
        end = time.monotonic() + 4
        while time.monotonic() < end:
            seen.append(sorted(isr()))
            time.sleep(0.05)
        assert all(victim not in s for s in seen), \
            f"broker {victim} came back into the ISR while stalled: {seen}"
    finally:
        c.brokers[victim].resume()
    c.wait_full_isr([topic], 3, timeout=30)
