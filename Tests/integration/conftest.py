"""Fixtures that run the real spoold binary on a free loopback port."""
import os
import pathlib
import shutil
import signal
import subprocess

import grpc
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def spoold_binary() -> str:
    return os.environ.get("SPOOLD", str(ROOT / ".build" / "debug" / "spoold"))


class Spoold:
    """A running spoold; `address` is HOST:PORT."""

    def __init__(self, *args: str):
        self.process = subprocess.Popen(
            [spoold_binary(), "--listen", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("spoold: listening on "):
            self.process.kill()
            raise RuntimeError(f"spoold did not start: {line!r} {self.process.stderr.read()}")
        self.address = line.rsplit(" ", 1)[1].strip()
        self.port = int(self.address.rsplit(":", 1)[1])

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.address)

    def terminate(self, timeout: float = 30) -> tuple[int, str]:
        """SIGTERM, then the exit code and the rest of stdout."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, out


@pytest.fixture(scope="module")
def server():
    spoold = Spoold()
    yield spoold
    code, _ = spoold.terminate()
    assert code == 0


@pytest.fixture
def own_server():
    """A server for one test that may stop it."""
    spoold = Spoold()
    yield spoold
    spoold.terminate()


@pytest.fixture(scope="session")
def grpcurl() -> str:
    path = shutil.which("grpcurl") or str(ROOT / ".venv" / "bin" / "grpcurl")
    assert os.path.exists(path), "grpcurl not found: run scripts/setup.sh"
    return path
