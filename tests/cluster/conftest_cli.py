# SPDX-License-Identifier: Apache-2.0
"""Apache Kafka's CLI tools (kafka-tools 3.9.1, the jars setup.sh puts in
.cache/integration/java/lib or kafka-ref.sh in .cache/kafka/libs)."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIBS = [REPO / ".cache" / "integration" / "java" / "lib", REPO / ".cache" / "kafka" / "libs"]
JAVA_OPTS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss1m",
             "-Dorg.slf4j.simpleLogger.defaultLogLevel=error"]


def classpath():
    for lib in LIBS:
        if any(lib.glob("kafka-tools-*.jar")):
            return f"{lib}/*"
    why = f"kafka-tools jars missing in {[str(x) for x in LIBS]} (tests/integration/setup.sh)"
    if os.environ.get("CI"):
        pytest.fail(why, pytrace=False)
    pytest.skip(why)


def kafka_topics(bootstrap, *args, timeout=90):
    """kafka-topics.sh (TopicCommand): its stdout; fails on a non-zero exit."""
    if shutil.which("java") is None:
        pytest.skip("java not found")
    cmd = ["java", *JAVA_OPTS, "-cp", classpath(), "org.apache.kafka.tools.TopicCommand",
           "--bootstrap-server", bootstrap, *args]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, f"kafka-topics {args}: rc={r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout
