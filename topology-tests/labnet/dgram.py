"""Receiving datagrams in the Python tests with a deadline, never a fixed
sleep: what arrived within the time, however little."""

import socket
import time


def recv_n(sock, n, timeout, read=None):
    """Up to n datagrams that arrive on sock within timeout seconds, as
    read(sock) returns each one (default: sock.recvfrom(65536), so
    (data, (ip, port)))."""
    if read is None:
        def read(s):
            return s.recvfrom(65536)
    got = []
    end = time.monotonic() + timeout
    while len(got) < n:
        left = end - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            got.append(read(sock))
        except socket.timeout:
            break
    return got
