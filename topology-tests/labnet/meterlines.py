"""rtpmeter's stdout event lines (calls, ready, fault, stop, done), read by a
thread into a queue, so a test or the lab can wait for one with a deadline."""
import queue
import threading
import time


class MeterLines:
    def __init__(self, stdout, stderr):
        """stdout: the meter's text pipe; stderr: a function returning
        what it wrote on stderr (for error messages)."""
        self.lines = queue.Queue()
        self.events = []
        self._stderr = stderr
        threading.Thread(target=self._read, args=(stdout,),
                         daemon=True).start()

    def _read(self, stdout):
        for line in stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, word, timeout=10):
        """Wait for the next event line starting with word; return it."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"rtpmeter: no '{word}' line within "
                                     f"{timeout}s; got {self.events}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"rtpmeter ended before '{word}'; got "
                                     f"{self.events}; stderr: "
                                     f"{self._stderr()}")
            self.events.append(line)
            if line.split()[0] == word:
                return line

    def drain(self, timeout=5):
        """Every line left until the meter closed its stdout."""
        while True:
            line = self.lines.get(timeout=timeout)
            if line is None:
                return
            self.events.append(line)
