"""The real spoold for the client's tests (no conftest.py: Tests/integration has one, and pytest runs both)."""
import os
import pathlib
import signal
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


class Spoold:
    """A spoold on `port` (0: a free one) with its database in `directory`."""

    def __init__(self, directory: pathlib.Path, *args: str, port: int = 0):
        binary = os.environ.get("SPOOLD", str(ROOT / ".build" / "debug" / "spoold"))
        self.process = subprocess.Popen(
            [binary, "--listen", f"127.0.0.1:{port}", "--db", str(directory / "spool.db"), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = []
        while not (line := self.process.stdout.readline()).startswith("spoold: listening on "):
            if not line:
                self.process.kill()
                raise RuntimeError(f"spoold did not start: {seen} {self.process.stderr.read()}")
            seen.append(line)
        self.address = line.removeprefix("spoold: listening on ").strip()
        self.port = int(self.address.rsplit(":", 1)[1])

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.communicate(timeout=30)
        return self.process.returncode


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    spoold = Spoold(tmp_path_factory.mktemp("spoold"))
    yield spoold
    assert spoold.stop() == 0
