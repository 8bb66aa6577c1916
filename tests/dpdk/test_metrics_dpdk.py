# SPDX-License-Identifier: Apache-2.0
"""The dpdk backend's counters on /metrics: the port's link state and
xstats and utcp's per-core counters are there and move with traffic (a
librdkafka round trip). The uring transport has none of them."""
import pytest

from . import nsclients as C
from .nsclients import ds


def _total(broker, family, label=None):
    vals = broker.metric(family)
    if label is not None:
        return vals.get(label, 0.0)
    return sum(vals.values())


@pytest.mark.timeout(120)
def test_dpdk_counters_move(broker, transport, tmp_path):
    if not transport.startswith("dpdk"):
        assert broker.metric("spillway_utcp_segs_in") == {}
        assert broker.metric("spillway_dpdk_link_up") == {}
        return
    segs_in = _total(broker, "spillway_utcp_segs_in")
    segs_out = _total(broker, "spillway_utcp_segs_out")
    rx_good = _total(broker, "spillway_dpdk_xstat", '{name="rx_good_packets"}')
    d = C.data_driver("rdkafka", broker)
    with broker.client():
        ds.round_trip(d, d, broker, tmp_path, "none", "all", prefix="dp-metrics")
    # net_tap asks for the link of its tap by name in the server netns, where
    # the tap no longer is (the harness moved it to the client's): down.
    link = broker.metric("spillway_dpdk_link_up")
    assert link.get("") == (0.0 if transport == "dpdk-tap" else 1.0), link
    assert _total(broker, "spillway_utcp_segs_in") > segs_in
    assert _total(broker, "spillway_utcp_segs_out") > segs_out
    assert _total(broker, "spillway_dpdk_xstat", '{name="rx_good_packets"}') > rx_good
    assert "{core=\"0\"}" in broker.metric("spillway_utcp_conns_open")
    text = broker.metrics_text()
    assert "# TYPE spillway_dpdk_xstat counter" in text
    assert text.count("# TYPE spillway_utcp_retransmits ") == 1
