"""Bencode for the Python side of the tests and tools (the ng protocol and
rtpmeter's peers): one encoder and one decoder, no validation beyond what a
test needs. Production code speaks bencode in C (common/bencode.c)."""


def bencode(v):
    """bytes of v: dict (keys sorted), list, int, str or bytes."""
    if isinstance(v, dict):
        return b"d" + b"".join(bencode(k) + bencode(x)
                               for k, x in sorted(v.items())) + b"e"
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    return str(len(v)).encode() + b":" + v


def bdecode(b, i=0, text=False):
    """(value, next index) of the item at b[i]; strings stay bytes, or are
    decoded as UTF-8 with text=True."""
    c = b[i:i + 1]
    if c in (b"d", b"l"):
        i += 1
        items = []
        while b[i:i + 1] != b"e":
            v, i = bdecode(b, i, text)
            items.append(v)
        if c == b"l":
            return items, i + 1
        return dict(zip(items[::2], items[1::2])), i + 1
    if c == b"i":
        end = b.index(b"e", i)
        return int(b[i + 1:end]), end + 1
    colon = b.index(b":", i)
    n = int(b[i:colon])
    s = b[colon + 1:colon + 1 + n]
    return (s.decode(errors="replace") if text else s), colon + 1 + n
