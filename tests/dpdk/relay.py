#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A two-port layer-2 relay that impairs traffic like tc netem does, for
kernels built without sch_netem (this VM's). Runs in its own netns between
the client's veth and the broker's link (veth or DPDK's tap):

    relay.py IF_CLIENT IF_SERVER PARAMS_JSON STATS_JSON

PARAMS_JSON (re-read when it changes):
  {"seed": 1,
   "up":   {"loss": 0.05, "duplicate": 0.05, "delay_ms": 1, "reorder": 0.25,
            "pure_ack_loss": 1.0},
   "down": {...}}
up = client->server frames, down = server->client. Per IPv4 frame: a TCP
segment with no payload and only ACK among SYN/FIN/RST (a pure ACK) dropped
with probability pure_ack_loss; any frame dropped with probability loss;
else sent twice with probability duplicate; with delay_ms > 0, held for
delay_ms except a `reorder` fraction sent at once (so they overtake the held
ones: netem's "delay 1ms reorder 25%"). Non-IPv4 frames (ARP) pass untouched.
STATS_JSON is rewritten every 0.2 s:
  {"params_version": n, "up": {"frames":..,"dropped":..,"duplicated":..,
   "delayed":..,"overtook":..,"send_errors":..}, "down": {...}}
"""
import heapq
import json
import os
import random
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
FIELDS = ("frames", "dropped", "duplicated", "delayed", "overtook", "send_errors",
          "acks_dropped")
TCP_FIN, TCP_SYN, TCP_RST = 0x01, 0x02, 0x04


def pure_ack(frame):
    """An IPv4 TCP segment with no payload and no SYN, FIN or RST."""
    ip = frame[14:]
    if len(ip) < 20 or ip[9] != 6:
        return False
    ihl = (ip[0] & 0x0F) * 4
    total = int.from_bytes(ip[2:4], "big")
    if len(ip) < ihl + 20:
        return False
    doff = (ip[ihl + 12] >> 4) * 4
    return total - ihl - doff == 0 and ip[ihl + 13] & (TCP_FIN | TCP_SYN | TCP_RST) == 0


def open_if(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    s.bind((name, 0))
    s.setblocking(False)
    return s


def main():
    if_c, if_s, params_path, stats_path = sys.argv[1:5]
    socks = {"up": open_if(if_c), "down": open_if(if_s)}
    out = {"up": socks["down"], "down": socks["up"]}
    stats = {d: dict.fromkeys(FIELDS, 0) for d in ("up", "down")}
    params, version, mtime = {}, 0, None
    rng = random.Random(1)
    held = []            # heap of (due, seq, direction, frame)
    seq = 0
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    signal.signal(signal.SIGINT, lambda *_: running.__setitem__(0, False))
    next_io = 0.0

    def send(direction, frame):
        try:
            out[direction].send(frame)
        except OSError:
            stats[direction]["send_errors"] += 1

    def write_stats():
        tmp = stats_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"params_version": version, **stats}, f)
        os.replace(tmp, stats_path)

    by_fd = {s.fileno(): d for d, s in socks.items()}
    while running[0]:
        now = time.monotonic()
        if now >= next_io:
            next_io = now + 0.2
            try:
                m = os.stat(params_path).st_mtime_ns
                if m != mtime:
                    mtime = m
                    with open(params_path) as f:
                        params = json.load(f)
                    version += 1
                    rng = random.Random(params.get("seed", version))
            except (OSError, ValueError):
                pass
            write_stats()
        timeout = 0.05
        if held:
            timeout = max(0.0, min(timeout, held[0][0] - now))
        r, _, _ = select.select(list(socks.values()), [], [], timeout)
        for s in r:
            direction = by_fd[s.fileno()]
            p = params.get(direction) or {}
            st = stats[direction]
            for _ in range(256):
                try:
                    frame, addr = s.recvfrom(65536)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:      # our own sends on this port
                    continue
                st["frames"] += 1
                if len(frame) < 14 or frame[12:14] != b"\x08\x00" or not p:
                    send(direction, frame)
                    continue
                if p.get("pure_ack_loss", 0) and pure_ack(frame) and \
                        rng.random() < p["pure_ack_loss"]:
                    st["acks_dropped"] += 1
                    continue
                if rng.random() < p.get("loss", 0):
                    st["dropped"] += 1
                    continue
                copies = 1
                if rng.random() < p.get("duplicate", 0):
                    copies = 2
                    st["duplicated"] += 1
                delay = p.get("delay_ms", 0) / 1000.0
                if delay > 0 and rng.random() >= p.get("reorder", 0):
                    st["delayed"] += 1
                    for _ in range(copies):
                        seq += 1
                        heapq.heappush(held, (time.monotonic() + delay, seq, direction, frame))
                    continue
                if any(h[2] == direction for h in held):
                    st["overtook"] += 1
                for _ in range(copies):
                    send(direction, frame)
        now = time.monotonic()
        while held and held[0][0] <= now:
            _, _, direction, frame = heapq.heappop(held)
            send(direction, frame)
    write_stats()


if __name__ == "__main__":
    main()
