# SPDX-License-Identifier: Apache-2.0
"""Brokers in network namespaces, for the network-partition test.

One bridge in the root namespace with 10.77.0.1/24 (ZooKeeper and the
clients stay in the root namespace and use it) and 10.77.0.2 (a probe
client binds it), and per broker a namespace with a veth pair whose inner
end has 10.77.0.(10 + id)/24. A partition is an nftables table inside one
broker's namespace that drops what goes to or comes from the other brokers,
ZooKeeper and the clients, except the probe address; healing deletes it
(this kernel has no netem). cleanup() removes the namespaces (with their veth ends
and nft tables) and the bridge, whatever happened before; every name carries
a prefix of ours, so leftovers of a killed run are removed by the next one.

Needs root, `ip netns` and `nft`: missing() says why not."""
import os
import shutil
import subprocess

PREFIX = "spnp"                 # every namespace / link name starts so
SUBNET = "10.77.0"
ROOT_ADDR = f"{SUBNET}.1"       # ZooKeeper and the clients
PROBE_ADDR = f"{SUBNET}.2"      # the one client a partitioned broker still hears
TABLE = "spillway_netpart"


def _run(argv, stdin=None, check=True):
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def missing():
    """Why brokers cannot get namespaces here, or None."""
    if os.geteuid() != 0:
        return "not root: network namespaces need CAP_NET_ADMIN"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"{tool} not found (apt-get install iproute2 nftables)"
    probe = f"{PREFIX}probe{os.getpid()}"
    r = _run(["ip", "netns", "add", probe], check=False)
    if r.returncode != 0:
        return f"ip netns add fails: {r.stderr.strip()}"
    try:
        r = _run(["ip", "netns", "exec", probe, "nft", "list", "tables"], check=False)
        if r.returncode != 0:
            return f"nft fails in a namespace: {r.stderr.strip()}"
    finally:
        _run(["ip", "netns", "del", probe], check=False)
    return None


def remove_leftovers():
    """Namespaces and links of ours from a run that could not clean up."""
    for line in _run(["ip", "netns", "list"], check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(PREFIX):
            _run(["ip", "netns", "del", name], check=False)
    for line in _run(["ip", "-o", "link", "show"], check=False).stdout.splitlines():
        parts = line.split(": ")
        if len(parts) > 1:
            name = parts[1].split("@")[0]
            if name.startswith(PREFIX):
                _run(["ip", "link", "del", name], check=False)


class Net:
    """The bridge and one namespace per broker id."""

    def __init__(self, ids):
        self.ids = list(ids)
        self.bridge = f"{PREFIX}br"
        self.root = ROOT_ADDR
        self.made = False

    def ns(self, node_id):
        return f"{PREFIX}{node_id}"

    def host(self, node_id):
        return f"{SUBNET}.{10 + node_id}"

    def exec_prefix(self, node_id):
        """What runs a command inside the broker's namespace."""
        return ["ip", "netns", "exec", self.ns(node_id)]

    def setup(self):
        remove_leftovers()
        self.made = True
        try:
            _run(["ip", "link", "add", self.bridge, "type", "bridge"])
            _run(["ip", "addr", "add", f"{ROOT_ADDR}/24", "dev", self.bridge])
            _run(["ip", "addr", "add", f"{PROBE_ADDR}/24", "dev", self.bridge])
            _run(["ip", "link", "set", self.bridge, "up"])
            for i in self.ids:
                self._add_broker(i)
        except BaseException:
            self.cleanup()
            raise
        return self

    def _add_broker(self, i):
        ns, outer, inner = self.ns(i), f"{PREFIX}h{i}", f"{PREFIX}n{i}"
        _run(["ip", "netns", "add", ns])
        _run(["ip", "link", "add", outer, "type", "veth", "peer", "name", inner])
        _run(["ip", "link", "set", outer, "master", self.bridge])
        _run(["ip", "link", "set", outer, "up"])
        _run(["ip", "link", "set", inner, "netns", ns])
        inside = self.exec_prefix(i)
        _run(inside + ["ip", "addr", "add", f"{self.host(i)}/24", "dev", inner])
        _run(inside + ["ip", "link", "set", inner, "up"])
        _run(inside + ["ip", "link", "set", "lo", "up"])

    def _table(self, node_id, input_rules, output_rules):
        """Replace node_id's partition table (atomically: one nft script)."""
        rules = (f"table inet {TABLE}\ndelete table inet {TABLE}\n"
                 f"table inet {TABLE} {{\n"
                 " chain input {\n  type filter hook input priority 0; policy accept;\n"
                 f"  iif lo accept\n{input_rules} }}\n"
                 " chain output {\n  type filter hook output priority 0; policy accept;\n"
                 f"  oif lo accept\n{output_rules} }}\n}}\n")
        _run(self.exec_prefix(node_id) + ["nft", "-f", "-"], stdin=rules)

    def isolate(self, node_id):
        """Drop everything between node_id and the other brokers, ZooKeeper
        and the clients; only the probe address still reaches it."""
        self._table(node_id,
                    f"  ip saddr {PROBE_ADDR} accept\n  ip saddr {SUBNET}.0/24 drop\n",
                    f"  ip daddr {PROBE_ADDR} accept\n  ip daddr {SUBNET}.0/24 drop\n")

    def cut_clients(self, node_id, zk_port):
        """Half healed: node_id hears the other brokers and ZooKeeper again,
        but still no client except the probe (so no client is served by it
        until it has seen the new leaders)."""
        self._table(node_id,
                    f"  ip saddr {ROOT_ADDR} tcp sport != {zk_port} drop\n",
                    f"  ip daddr {ROOT_ADDR} tcp dport != {zk_port} drop\n")

    def heal(self, node_id):
        _run(self.exec_prefix(node_id) + ["nft", "delete", "table", "inet", TABLE],
             check=False)

    def rules(self, node_id):
        return _run(self.exec_prefix(node_id) + ["nft", "list", "ruleset"], check=False).stdout

    def cleanup(self):
        """Namespaces (their veth ends and nft tables go with them), the
        host veth ends and the bridge. Idempotent."""
        if not self.made:
            return
        for i in self.ids:
            _run(["ip", "netns", "del", self.ns(i)], check=False)
            _run(["ip", "link", "del", f"{PREFIX}h{i}"], check=False)
        _run(["ip", "link", "del", self.bridge], check=False)
        self.made = False
