"""An ng protocol client for the Python tests: rtpengine's control protocol
(a cookie, a space, a bencoded dictionary, over UDP), as SIP proxies speak
it to rtprelay. The caller makes the socket, so a test decides which
network namespace it lives in (netns.socket_in). Production code speaks ng
in C (common/ngclient.c)."""

import random
import socket
import time

from .bencode import bdecode, bencode


class NgTimeout(AssertionError):
    pass


class NgClient:
    """Requests to one ng listener `addr` over `sock`; `name` is what
    errors call it."""

    def __init__(self, sock, addr, name=None):
        self.sock = sock
        self.addr = addr
        self.name = name or "%s:%d" % addr

    def __call__(self, command, timeout=1.0, tries=3, **kw):
        """The reply dictionary (strings decoded) to `command` with the
        keyword arguments as its keys ('_' in a name becomes '-'). A fresh
        cookie each time: the relay answers a repeated one from its cache."""
        req = {"command": command}
        req.update({k.replace("_", "-"): v for k, v in kw.items()})
        cookie = "%016x" % random.getrandbits(64)
        msg = cookie.encode() + b" " + bencode(req)
        for _ in range(tries):
            self.sock.sendto(msg, self.addr)
            end = time.monotonic() + timeout
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self.sock.settimeout(left)
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    break
                c, _, body = data.partition(b" ")
                if c == cookie.encode():
                    return bdecode(body, text=True)[0]
        raise NgTimeout(f"{self.name}: no answer to ng {command}")

    def ping(self, timeout=0.3):
        """The reply, or None if the relay did not answer."""
        try:
            return self("ping", timeout=timeout, tries=1)
        except NgTimeout:
            return None

    def calls(self):
        """The call-ids the relay holds (ng list, up to 1000)."""
        r = self("list", limit=1000)
        assert r["result"] == "ok", r
        return set(r["calls"])

    def close(self):
        self.sock.close()
