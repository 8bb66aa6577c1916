# SPDX-License-Identifier: Apache-2.0
"""The descriptor table is grown once, at startup (common/fd_table.h). It
used to grow by doubling as connections came in, and in a process with
threads each growth waits for an RCU grace period inside accept: 256
connections opened in a burst stalled the core that accepted them for 10 to
60 ms, and every other client's requests on it waited (the hostile suite's
bystander saw a 60 ms produce p99). Checked here without timing: the table
is at its full size right after startup, and a burst of connections does
not grow it."""
import pathlib
import re

import pytest

import kwire
from conftest import backend_name

CONNS = 300
RESERVE_MAX = 1 << 18   # FD_TABLE_RESERVE_MAX


def status_field(pid, name):
    text = pathlib.Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{name}:\s+(\d+)", text, re.M).group(1))


def nofile_soft(pid):
    text = pathlib.Path(f"/proc/{pid}/limits").read_text()
    soft = re.search(r"^Max open files\s+(\S+)", text, re.M).group(1)
    return RESERVE_MAX if soft == "unlimited" else int(soft)


@pytest.mark.skipif(backend_name() != "spillway",
                    reason="Spillway's startup sizing; the JVM manages its own descriptors")
def test_descriptor_table_is_full_size_before_connections(broker_factory):
    b = broker_factory(overrides={"spillway.connections.max": str(CONNS + 16)})
    pid = b.proc.pid
    want = min(nofile_soft(pid), RESERVE_MAX)
    assert want > CONNS + 64, f"RLIMIT_NOFILE {want} is too low for this test"
    before = status_field(pid, "FDSize")
    assert before >= want, (f"descriptor table {before} at startup, not grown to "
                            f"{want}: the first connections will grow it in accept")
    socks = [kwire.connect(b.bootstrap, 5.0) for _ in range(CONNS)]
    try:
        for i, s in enumerate(socks):     # every one accepted and served
            s.sendall(kwire.request(kwire.API_VERSIONS, 0, i, b""))
        for i, s in enumerate(socks):
            assert kwire.read_frame(s)[0] == i
        assert status_field(pid, "FDSize") == before, "the table grew under a burst"
    finally:
        for s in socks:
            s.close()
