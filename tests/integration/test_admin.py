# SPDX-License-Identifier: Apache-2.0
"""Every admin scenario of scenarios.py, once per client of
scenarios.ADMIN_CLIENTS (test ids: test_<scenario>[<client>]). A scenario runs
for the clients that have the capabilities it needs; a client that is not
installed skips (fails under CI, see conftest.client_missing)."""
import uuid

import pytest

import scenarios as s
from conftest import unique_topic


def over(*caps):
    """Parametrise the D fixture over the clients having all of caps."""
    return pytest.mark.parametrize(
        "D", [pytest.param(c, id=c.id) for c in s.ADMIN_CLIENTS if set(caps) <= c.caps],
        indirect=True)


@pytest.fixture
def D(request):
    return request.param.driver()


# The scenarios of scenarios.py run as they are: name -> the capabilities a
# client needs for it. Each becomes test_<name>, parametrised over clients.
SCENARIOS = [
    ("cluster", ()),
    ("lifecycle", ()),
    ("duplicate", ()),
    ("invalid_names", ()),
    ("replication_factor", ()),
    ("partitions_errors", ()),
    ("unknown_topic", ()),
    ("validate_only", ()),
    ("broker_defaults", ("default_counts",)),
    ("replica_assignment", ()),
    ("broker_configs", ()),
    ("delete_by_id", ("topic_id",)),
]


def _scenario_test(name, caps):
    @over(*caps)
    def test(D, broker):
        s.run(name, D, broker)
    test.__name__ = test.__qualname__ = f"test_{name}"
    test.__doc__ = getattr(s, name).__doc__
    return test


for _name, _caps in SCENARIOS:
    globals()[f"test_{_name}"] = _scenario_test(_name, _caps)


@over("create_id")
def test_create_returns_topic_id(D, broker):
    """CreateTopics v7 carries the new topic's id; Metadata must agree."""
    t = unique_topic(D.prefix)
    r = D.call(broker.bootstrap, "create", t, 1, 1)
    assert r["error"] is None and s.is_topic_id(r["id"]), r
    d = s.eventually(lambda: s.described(D, broker, t))
    assert d["id"] == r["id"], (r, d)
    assert D.call(broker.bootstrap, "delete", t)["error"] is None


@over("describe_id")
def test_describe_by_id(D, broker):
    t = unique_topic(D.prefix)
    assert D.call(broker.bootstrap, "create", t, 2, 1)["error"] is None
    d = s.eventually(lambda: s.described(D, broker, t))
    r = D.call(broker.bootstrap, "describe-id", d["id"])
    assert r["error"] is None and r["name"] == t and r["partitions"] == 2, r
    assert r["id"] == d["id"]
    r = D.call(broker.bootstrap, "describe-id", uuid.uuid4().hex)
    assert r["error"] == "UNKNOWN_TOPIC_ID", r
    assert D.call(broker.bootstrap, "delete", t)["error"] is None


@over("restart")
def test_restart_persists(D, broker_factory):
    s.restart_persists(D, broker_factory, D.prefix)


@over("metadata")
def test_metadata_auto_create_on(D, broker):
    """Metadata v4+ with AllowAutoTopicCreation=true creates the topic
    (num.partitions=1). Kafka answers the first request with an error while it
    creates it; answering with the new topic right away is fine too."""
    t = unique_topic(D.prefix + "-auto")
    r = D.call(broker.bootstrap, "metadata", t, "auto")
    assert r["error"] in (None, "UNKNOWN_TOPIC_OR_PARTITION", "LEADER_NOT_AVAILABLE"), r

    def created():
        r = D.call(broker.bootstrap, "metadata", t, "auto")
        assert r["error"] is None and r["partitions"] == 1, r
    s.eventually(created)
    assert t in D.call(broker.bootstrap, "list")["topics"]
    assert D.call(broker.bootstrap, "delete", t)["error"] is None


@over("metadata")
def test_metadata_no_auto_create_flag(D, broker):
    """AllowAutoTopicCreation=false: the broker must not create it."""
    t = unique_topic(D.prefix + "-noflag")
    for _ in range(3):
        r = D.call(broker.bootstrap, "metadata", t, "noauto")
        assert r["error"] == "UNKNOWN_TOPIC_OR_PARTITION", r
    assert t not in D.call(broker.bootstrap, "list")["topics"]


@over("metadata")
def test_metadata_auto_create_disabled(D, noauto_broker):
    """auto.create.topics.enable=false on the broker wins over the client."""
    b = noauto_broker
    t = unique_topic(D.prefix + "-off")
    for _ in range(3):
        r = D.call(b.bootstrap, "metadata", t, "auto")
        assert r["error"] == "UNKNOWN_TOPIC_OR_PARTITION", r
    assert t not in D.call(b.bootstrap, "list")["topics"]
