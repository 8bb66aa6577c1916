# SPDX-License-Identifier: Apache-2.0
"""Blocking reads on a raw Kafka connection, shared by the integration,
hostile and dpdk suites (tests/lib is on their sys.path): exact-length
receive, one size-prefixed response frame, and "has the broker closed it?".
Nothing here encodes a request; see kwire.py for that."""
import struct


def recv_exact(sock, n):
    """n bytes from sock; ConnectionError if the peer closes first."""
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(1 << 20, n - len(buf)))
        if not chunk:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def read_frame(sock, size_max=1 << 30):
    """(correlation id, rest of the response) of the next response frame."""
    size = struct.unpack(">i", recv_exact(sock, 4))[0]
    if size < 4 or size > size_max:
        raise ValueError(f"response frame of {size} bytes (bound {size_max})")
    data = recv_exact(sock, size)
    return struct.unpack(">i", data[:4])[0], data[4:]


def eof(sock):
    """True when the broker closed sock (EOF or reset); False if it is still
    open with nothing to read. Leaves the socket's timeout as it was."""
    timeout = sock.gettimeout()
    try:
        sock.setblocking(False)
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.settimeout(timeout)
