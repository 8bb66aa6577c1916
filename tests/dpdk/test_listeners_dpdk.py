# SPDX-License-Identifier: Apache-2.0
"""Two listeners on every transport (INTERNAL on 9092, EXTERNAL on 9094, both
PLAINTEXT through listener.security.protocol.map): on dpdk utcp listens on
both ports. kcat -L through each sees that listener's own advertised
endpoint; records produced through one are consumed through the other."""
import json
import subprocess

from . import netns as N
from . import nsclients as C
from .nsclients import s

EXTERNAL_PORT = 9094


def kcat(broker, bootstrap, *args, stdin=None):
    r = subprocess.run(N.ns_argv(broker.client_ns, ["kcat", "-b", bootstrap, "-m", "20",
                                                    *args]),
                       input=stdin, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"kcat {args}: {r.stderr}"
    return r.stdout


def test_two_listeners(broker_factory):
    C.need("kcat")
    b = broker_factory(overrides={
        "listeners": f"INTERNAL://{N.SERVER_IP}:{N.KAFKA_PORT},"
                     f"EXTERNAL://{N.SERVER_IP}:{EXTERNAL_PORT}",
        "listener.security.protocol.map": "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT",
    })
    internal = f"{N.SERVER_IP}:{N.KAFKA_PORT}"
    external = f"{N.SERVER_IP}:{EXTERNAL_PORT}"
    for bootstrap in (internal, external):
        md = json.loads(kcat(b, bootstrap, "-L", "-J"))
        assert [x["name"] for x in md["brokers"]] == [bootstrap], md
    t = N.it.unique_topic("dp-lis")
    kcat(b, internal, "-P", "-t", t, "-p", "0", stdin="i1\ni2\n")
    kcat(b, external, "-P", "-t", t, "-p", "0", stdin="e1\n")

    def both():
        for bootstrap in (internal, external):
            out = kcat(b, bootstrap, "-C", "-t", t, "-p", "0", "-o", "beginning", "-e", "-q")
            assert out.split() == ["i1", "i2", "e1"], (bootstrap, out)
    s.eventually(both)
