# SPDX-License-Identifier: Apache-2.0
"""Differential tests at the protocol's edges (issue 11), admin requests:
internal topic names, and CreateTopics, DeleteTopics, DescribeConfigs and
CreatePartitions with huge or duplicated resource lists, answered the way
Apache Kafka 3.9.1 answers them. Written and checked like
test_conformance_limits.py (the data path): each test was first run against
the real Kafka and asserts what it answered; where Spillway deliberately
answers differently, the test says so and checks that only on Spillway."""
import time
import uuid

import pytest

from conftest import backend_name
from kwire import (
    CREATE_PARTITIONS, CREATE_TOPICS, DELETE_TOPICS, DESCRIBE_CONFIGS, INVALID_REQUEST,
    UNKNOWN_TOPIC_OR_PARTITION, create_partitions_body, create_topics, create_topics_body,
    delete_topics_body, describe_configs_body, make_topics, metadata, parse_create_partitions,
    parse_create_topics, parse_delete_topics, parse_describe_configs,
    parse_describe_configs_values, roundtrip, wait_for_leaders,
)

MIB = 1 << 20
TOPIC, BROKER, CLIENT_METRICS = 2, 4, 16        # DescribeConfigs resource types
# Errors.INVALID_REQUEST's default message: what Kafka sends when the whole
# request failed (ApiError.fromThrowable keeps only the code's message).
KAFKA_INVALID_REQUEST_MESSAGE = (
    "This most likely occurs because of a request being malformed by the client library "
    "or the message was sent to an incompatible broker. See the broker logs for more "
    "details.")


def spillway_only(reason):
    if backend_name() != "spillway":
        pytest.skip(reason)


# ---- 1. internal topic names ----

@pytest.mark.parametrize("version", [4, 7])
def test_create_internal_topics_validate_only(broker, version):
    """CreateTopics, validate_only, naming __consumer_offsets,
    __transaction_state, __share_group_state and __cluster_metadata.

    Kafka 3.9.1: a client may create the group, transaction and share-group
    state topics like any other (NONE here; they are made "internal" by
    name only); __cluster_metadata is refused with INVALID_REQUEST (42)
    "Creation of internal topic __cluster_metadata is prohibited.", also
    with validate_only. Source: ControllerApis.createTopics (CLUSTER_
    METADATA_TOPIC_NAME is removed from the request and answered with that
    error; the others go to ReplicationControlManager.createTopics)."""
    got = create_topics(broker, [("__consumer_offsets", 3), ("__transaction_state", 1),
                                 ("__share_group_state", 1), ("__cluster_metadata", 1)],
                        version=version, validate_only=True)
    by_name = {n: (e, m) for n, e, m in got}
    assert by_name == {
        "__consumer_offsets": (0, None), "__transaction_state": (0, None),
        "__share_group_state": (0, None),
        "__cluster_metadata": (INVALID_REQUEST,
                               "Creation of internal topic __cluster_metadata is prohibited."),
    }


def test_create_internal_topics_for_real(broker_factory):
    """CreateTopics (v7, not validate_only) of __consumer_offsets with 3
    partitions and __transaction_state with 2, then __cluster_metadata.

    Kafka 3.9.1 creates the first two as asked (3 and 2 partitions, not the
    offsets.topic.num.partitions default), Metadata marks them internal
    (is_internal true); a second CreateTopics gets TOPIC_ALREADY_EXISTS
    (36). __cluster_metadata: INVALID_REQUEST (42), never created, and
    Metadata does not list it (UNKNOWN_TOPIC_OR_PARTITION, not internal).
    Source: ControllerApis.createTopics, Topic.isInternal."""
    b = broker_factory()
    got = create_topics(b, [("__consumer_offsets", 3), ("__transaction_state", 2)], version=7)
    assert [(n, e) for n, e, _ in got] == [("__consumer_offsets", 0), ("__transaction_state", 0)]
    md = wait_for_leaders(b, ["__consumer_offsets", "__transaction_state"])
    assert (md["__consumer_offsets"][1], len(md["__consumer_offsets"][2])) == (True, 3)
    assert (md["__transaction_state"][1], len(md["__transaction_state"][2])) == (True, 2)
    got = create_topics(b, [("__consumer_offsets", 3)], version=7)
    assert [(n, e) for n, e, _ in got] == [("__consumer_offsets", 36)]
    got = create_topics(b, [("__cluster_metadata", 1)], version=7)
    assert [(n, e) for n, e, _ in got] == [("__cluster_metadata", INVALID_REQUEST)]
    md = metadata(b, ["__cluster_metadata"])
    assert md["__cluster_metadata"][:2] == (UNKNOWN_TOPIC_OR_PARTITION, False)


def test_metadata_auto_creates_internal_topics_with_their_own_settings(broker_factory):
    """Metadata v9 naming __consumer_offsets, __transaction_state and
    __cluster_metadata, first with allow_auto_topic_creation false, then
    true (auto.create.topics.enable true; offsets.topic.num.partitions=4,
    transaction.state.log.num.partitions=3, num.partitions=1).

    Kafka 3.9.1: without auto-creation each is UNKNOWN_TOPIC_OR_PARTITION
    (3), and is_internal is true for the first two even though they do not
    exist (KafkaApis.getTopicMetadata: metadataResponseTopic(...,
    Topic.isInternal(topic), ...)). With auto-creation the first answer is
    still 3 (KRaft creates asynchronously, AutoTopicCreationManager.
    sendCreateTopicRequest), then __consumer_offsets exists with
    offsets.topic.num.partitions (4) partitions and cleanup.policy=compact,
    __transaction_state with transaction.state.log.num.partitions (3) and
    compact (AutoTopicCreationManager.creatableTopic picks the internal
    topics' own partition counts and configs), and __cluster_metadata is
    never created (the controller refuses it)."""
    b = broker_factory({"offsets.topic.num.partitions": "4",
                        "transaction.state.log.num.partitions": "3"})
    internal = ["__consumer_offsets", "__transaction_state", "__cluster_metadata"]
    md = metadata(b, internal, allow_auto=False)
    assert {n: md[n][:2] for n in internal} == {
        "__consumer_offsets": (3, True), "__transaction_state": (3, True),
        "__cluster_metadata": (3, False)}
    deadline = time.monotonic() + 30
    while True:
        md = metadata(b, internal, allow_auto=True)
        if md["__consumer_offsets"][0] == 0 and md["__transaction_state"][0] == 0:
            break
        assert time.monotonic() < deadline, md
        time.sleep(0.5)
    assert (md["__consumer_offsets"][1], len(md["__consumer_offsets"][2])) == (True, 4)
    assert (md["__transaction_state"][1], len(md["__transaction_state"][2])) == (True, 3)
    assert md["__cluster_metadata"][:2] == (UNKNOWN_TOPIC_OR_PARTITION, False)
    for name in ("__consumer_offsets", "__transaction_state"):
        w_body = describe_configs_body(4, [(TOPIC, name)])
        r = roundtrip(b, DESCRIBE_CONFIGS, 4, w_body)
        assert _configs(r, 4)[name]["cleanup.policy"] == "compact"


def _configs(r, version):
    """{resource name: {config: value}} of a DescribeConfigs response."""
    return {name: values
            for _, name, _, _, _, values in parse_describe_configs_values(version, r)}


# ---- 2. admin requests with huge or duplicated resource lists ----

def _describe(broker, version, resources, timeout=120):
    r = roundtrip(broker, DESCRIBE_CONFIGS, version, describe_configs_body(version, resources),
                  timeout=timeout)
    return parse_describe_configs(version, r), len(r.d)


@pytest.mark.parametrize("version", [1, 4])
def test_describe_configs_duplicates_are_each_answered(broker, version):
    """DescribeConfigs naming the broker 1,000 times, a topic 500 times, and
    the two interleaved.

    Kafka 3.9.1 answers every resource in request order, duplicates in full
    (ConfigHelper.describeConfigs maps each resource; nothing merges or
    refuses duplicates): 1,000 x 314 broker configs, a 14 MB response in
    about 3.4 s; naming the broker 10,000 times (an 80 KB request) gives a
    142 MB response after 34 s. Spillway answers the same while the
    response stays under its per-request budget (see the next test)."""
    name = make_topics(broker, "dcdup", 1, 1)[0]
    got, _ = _describe(broker, version, [(BROKER, "1")] * 1000)
    assert len(got) == 1000
    assert len({(t, n, e, c) for t, n, e, _, c in got}) == 1
    assert got[0][2] == 0 and got[0][4] > 0
    got, _ = _describe(broker, version, [(TOPIC, name)] * 500)
    assert len(got) == 500 and {(t, n, e) for t, n, e, _, _ in got} == {(TOPIC, name, 0)}
    mixed = [(BROKER, "1"), (TOPIC, name)] * 100
    got, _ = _describe(broker, version, mixed)
    assert [(t, n, e) for t, n, e, _, _ in got] == [(t, n, 0) for t, n in mixed]


def test_describe_configs_response_is_bounded(broker):
    """Spillway's bound (Kafka has none; see above): DescribeConfigs naming
    the broker 10,000 times with synonyms and documentation. Every resource
    is answered, in order; full answers stop at the per-request response
    budget and the rest get INVALID_REQUEST (42), so the response stays a
    few megabytes instead of Kafka's 142 MB, and the broker still serves."""
    spillway_only("Kafka answers every duplicate in full (142 MB)")
    got, size = _describe(broker, 4, [(BROKER, "1")] * 10000)
    assert len(got) == 10000
    errors = [e for _, _, e, _, _ in got]
    full = errors.index(INVALID_REQUEST)
    assert full > 10 and set(errors[:full]) == {0} and set(errors[full:]) == {INVALID_REQUEST}
    assert size < 24 * MIB, size
    assert make_topics(broker, "dcafter", 1, 1)


@pytest.mark.parametrize("version", [1, 4])
def test_describe_configs_mixed_resources(broker, version):
    """DescribeConfigs mixing the broker ("1", "" and bad ids), topics (known,
    unknown, badly named) and a client-metrics subscription.

    Kafka 3.9.1, in request order: broker "1": NONE with all its configs;
    broker "" (the cluster-wide dynamic defaults, none set): NONE with no
    configs; "2": INVALID_REQUEST "Unexpected broker id, expected 1 or empty
    string, but received 2"; "x": INVALID_REQUEST "Broker id must be an
    integer, but it is: x"; unknown topic: UNKNOWN_TOPIC_OR_PARTITION (3);
    "" and "bad/name": INVALID_TOPIC_EXCEPTION (17) "Topic name is invalid:
    ..." (Topic.validate); error_message is "" (not null) for every result
    without a message of its own, NONE and the unknown topic included;
    CLIENT_METRICS (16) "sub": NONE, no configs. Source:
    ConfigHelper.describeConfigs."""
    name = make_topics(broker, "dcmix", 1, 1)[0]
    nosuch = "cf-dc-nosuch-" + uuid.uuid4().hex[:6]
    res = [(BROKER, "1"), (TOPIC, name), (BROKER, ""), (BROKER, "2"), (BROKER, "x"),
           (TOPIC, nosuch), (TOPIC, ""), (TOPIC, "bad/name"), (CLIENT_METRICS, "sub")]
    got, _ = _describe(broker, version, res)
    assert [(t, n) for t, n, _, _, _ in got] == res
    errors = [(e, c > 0) for _, _, e, _, c in got]
    assert errors == [(0, True), (0, True), (0, False), (INVALID_REQUEST, False),
                      (INVALID_REQUEST, False), (UNKNOWN_TOPIC_OR_PARTITION, False),
                      (17, False), (17, False), (0, False)]
    msgs = [m for _, _, _, m, _ in got]
    assert [msgs[i] for i in (0, 1, 2, 5, 8)] == [""] * 5
    assert msgs[3] == "Unexpected broker id, expected 1 or empty string, but received 2"
    assert msgs[4] == "Broker id must be an integer, but it is: x"
    assert msgs[6] == "Topic name is invalid: the empty string is not allowed"
    assert msgs[7] == ("Topic name is invalid: 'bad/name' contains one or more characters "
                       "other than ASCII alphanumerics, '.', '_' and '-'")


@pytest.mark.parametrize("bad_type", [0, 1, 3, 32, 99, -1])
def test_describe_configs_unknown_resource_type_fails_the_request(broker, bad_type):
    """DescribeConfigs v4 naming a topic, the broker and a resource of a type
    Kafka 3.9.1 does not describe (UNKNOWN 0, ANY 1, 3, GROUP 32, 99, -1).

    Kafka fails the whole request: every resource, the valid ones too, gets
    INVALID_REQUEST (42) with Errors.INVALID_REQUEST's default message and
    no configs (ConfigHelper.handleDescribeConfigsRequest throws
    InvalidRequestException("Unexpected resource type ...") while
    authorizing, so KafkaApis answers with getErrorResponse)."""
    name = make_topics(broker, "dctype", 1, 1)[0]
    res = [(TOPIC, name), (BROKER, "1"), (bad_type, "x")]
    got, _ = _describe(broker, 4, res)
    assert got == [(t, n, INVALID_REQUEST, KAFKA_INVALID_REQUEST_MESSAGE, 0) for t, n in res]


@pytest.mark.parametrize("version", [2, 4, 5, 7])
def test_create_topics_duplicates_answered_once(broker, version):
    """CreateTopics (validate_only) naming an existing topic twice, a new
    topic twice, an illegal name twice, and a new topic once.

    Kafka 3.9.1: one result per distinct name: each duplicated name once,
    INVALID_REQUEST (42) "Duplicate topic name." (before any other check,
    so also for the existing and the illegal name), after the results of
    the names given once. A request naming one topic 300 times gets a
    one-entry response. Source: ControllerApis.createTopics
    (duplicateTopicNames). Kafka itself is slow to even parse many
    duplicates (CreateTopicsRequestData keeps topics in an
    ImplicitLinkedHashCollection keyed by name, worse than quadratic in
    duplicates): 300 copies take 0.2 s, 1,000 take 7 s, and 10,000 keep one
    of its network threads busy for over ten minutes, stalling every
    connection assigned to that thread."""
    existing = make_topics(broker, "ctdup", 1, 1)[0]
    fresh, again = "cf-ctfresh-" + uuid.uuid4().hex[:8], "cf-ctagain-" + uuid.uuid4().hex[:8]
    got = create_topics(broker, [(existing, 1), (fresh, 1), (existing, 1), (again, 1),
                                 (again, 2), ("bad/x", 1), ("bad/x", 1)],
                        version=version, validate_only=True)
    assert got[0] == (fresh, 0, None)
    assert sorted(got[1:]) == sorted((n, INVALID_REQUEST, "Duplicate topic name.")
                                     for n in (existing, again, "bad/x"))
    got = create_topics(broker, [(again, 1)] * 300, version=version, validate_only=True)
    assert got == [(again, INVALID_REQUEST, "Duplicate topic name.")]


def test_create_topics_bounds(broker):
    """Spillway's bounds (Kafka needs minutes to even parse the first
    request, and answers the second with 11 MB of configs): one name 10,000
    times is one result, at once; CreateTopics v7 (validate_only) of 8,000
    distinct topics answers every topic NONE, with configs until the
    response reaches its budget and then configs null with
    TopicConfigErrorCode INVALID_REQUEST (a tagged field), so it stays near
    8 MiB."""
    spillway_only("Spillway's own bounds on CreateTopics responses")
    name = "cf-ctbound-" + uuid.uuid4().hex[:8]
    t0 = time.monotonic()
    got = create_topics(broker, [(name, 1)] * 10000, version=7, validate_only=True)
    assert got == [(name, INVALID_REQUEST, "Duplicate topic name.")]
    assert time.monotonic() - t0 < 5
    names = [f"cf-ctbound-{i}-{uuid.uuid4().hex[:6]}" for i in range(8000)]
    r = roundtrip(broker, CREATE_TOPICS, 7, create_topics_body(7, [(n, 1) for n in names],
                                                               validate_only=True))
    size = len(r.d)
    got = parse_create_topics(7, r, with_configs=True)
    assert [(n, e) for n, e, _, _ in got] == [(n, 0) for n in names]
    counts = [c for _, _, _, c in got]
    full = counts.index(-1)
    assert full > 1000 and min(counts[:full]) > 0 and set(counts[full:]) == {-1}
    assert size < 10 * MIB, size


@pytest.mark.parametrize("version", [1, 5, 6])
def test_delete_topics_duplicates_answered_once(broker, version):
    """DeleteTopics naming an existing topic three times, a missing topic
    twice and another existing topic once.

    Kafka 3.9.1: each duplicated name once with INVALID_REQUEST (42)
    ("Duplicate topic name." where the version has error_message, v5+), and
    it is NOT deleted; the topic named once is deleted (NONE). Source:
    ControllerApis.deleteTopics (duplicateProvidedNames)."""
    keep, gone = make_topics(broker, "dtdup", 2, 1)
    nosuch = "cf-dt-nosuch-" + uuid.uuid4().hex[:6]
    r = roundtrip(broker, DELETE_TOPICS, version,
                  delete_topics_body(version, [keep, nosuch, keep, gone, nosuch, keep]))
    got = parse_delete_topics(version, r)
    msg = "Duplicate topic name." if version >= 5 else None
    assert sorted(got) == sorted([(keep, INVALID_REQUEST, msg), (nosuch, INVALID_REQUEST, msg),
                                  (gone, 0, None)])
    deadline = time.monotonic() + 20
    while True:
        md = metadata(broker, [keep, gone])
        if md[gone][0] == UNKNOWN_TOPIC_OR_PARTITION:
            break
        assert time.monotonic() < deadline, md
        time.sleep(0.2)
    assert md[keep][0] == 0


def test_delete_topics_v6_by_id(broker):
    """DeleteTopics v6 naming topics by id: one id twice, another once, an
    entry with neither name nor id, one with both, and an unknown id.

    Kafka 3.9.1 (ControllerApis.deleteTopics): the id given once is deleted
    and answered with its name and id (NONE); the duplicated id once, name
    null, INVALID_REQUEST "Duplicate topic id." (not deleted); neither:
    INVALID_REQUEST "Neither topic name nor id were specified."; both:
    INVALID_REQUEST "You may not specify both topic name and topic id.";
    unknown id: UNKNOWN_TOPIC_ID (100), name null. Order: invalid entries,
    duplicates, then the rest (compared as a set here)."""
    names = make_topics(broker, "delid", 3, 1)
    ids = {n: v[3] for n, v in metadata(broker, names, version=10).items()}
    zero, other = b"\x00" * 16, b"\x01" * 16
    entries = [(None, ids[names[0]]), (None, ids[names[0]]), (None, ids[names[1]]),
               (None, zero), (names[2], ids[names[2]]), (None, other)]
    got = parse_delete_topics(6, roundtrip(broker, DELETE_TOPICS, 6,
                                           delete_topics_body(6, entries)), with_ids=True)
    assert sorted(got, key=repr) == sorted([
        (names[1], ids[names[1]], 0, None),
        (None, ids[names[0]], INVALID_REQUEST, "Duplicate topic id."),
        (None, zero, INVALID_REQUEST, "Neither topic name nor id were specified."),
        (names[2], ids[names[2]], INVALID_REQUEST,
         "You may not specify both topic name and topic id."),
        (None, other, 100, "This server does not host this topic ID."),
    ], key=repr)
    md = metadata(broker, [names[0], names[2]])
    assert md[names[0]][0] == 0 and md[names[2]][0] == 0


@pytest.mark.parametrize("version", [0, 1, 3])
def test_create_partitions_duplicates_answered_once(broker, version):
    """CreatePartitions (validate_only) naming a topic twice (different
    counts), another twice (same count), a missing topic once.

    Kafka 3.9.1: each duplicated name once with INVALID_REQUEST (42)
    "Duplicate topic name."; the missing topic UNKNOWN_TOPIC_OR_PARTITION
    (3). Source: ControllerApis.createPartitions (duplicateTopicNames)."""
    n0, n1 = make_topics(broker, "cpdup", 2, 2)
    nosuch = "cf-cp-nosuch-" + uuid.uuid4().hex[:6]
    r = roundtrip(broker, CREATE_PARTITIONS, version, create_partitions_body(
        version, [(n0, 5), (n1, 3), (n0, 4), (nosuch, 2), (n1, 3)], validate_only=True))
    got = parse_create_partitions(version, r)
    assert sorted((n, e) for n, e, _ in got) == sorted(
        [(n0, INVALID_REQUEST), (n1, INVALID_REQUEST), (nosuch, UNKNOWN_TOPIC_OR_PARTITION)])
    assert {m for n, e, m in got if e == INVALID_REQUEST} == {"Duplicate topic name."}
