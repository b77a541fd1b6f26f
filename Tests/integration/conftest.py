"""Fixtures that run the real spoold binary on a free loopback port."""
import os
import pathlib
import shutil
import signal
import subprocess
import sys

import grpc
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def spoold_binary() -> str:
    return os.environ.get("SPOOLD", str(ROOT / ".build" / "debug" / "spoold"))


class Spoold:
    """A running spoold; `address` is HOST:PORT."""

    def __init__(self, directory: pathlib.Path, *args: str):
        self.db = directory / "spool.db"
        self.process = subprocess.Popen(
            [spoold_binary(), "--listen", "127.0.0.1:0", "--db", str(self.db), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.banner = []
        while not (line := self.process.stdout.readline()).startswith("spoold: listening on "):
            if not line:
                self.process.kill()
                raise RuntimeError(f"spoold did not start: {self.banner} {self.process.stderr.read()}")
            self.banner.append(line.strip())
        self.address = line.removeprefix("spoold: listening on ").strip()
        self.port = int(self.address.rsplit(":", 1)[1])

    @classmethod
    def configured(cls, directory: pathlib.Path, config: str, *args: str) -> "Spoold":
        """A spoold reading `config` (YAML), written to directory/spool.yaml."""
        path = directory / "spool.yaml"
        path.write_text(config)
        return cls(directory, "--config", str(path), *args)

    def channel(self) -> grpc.Channel:
        """A channel with a connection of its own (grpcio otherwise shares one
        between channels to the same address)."""
        return grpc.insecure_channel(self.address, options=[("grpc.use_local_subchannel_pool", 1)])

    def terminate(self, timeout: float = 30) -> tuple[int, str]:
        """SIGTERM, then the exit code and the rest of stdout."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, out


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    spoold = Spoold(tmp_path_factory.mktemp("spoold"))
    yield spoold
    code, _ = spoold.terminate()
    assert code == 0


@pytest.fixture
def own_server(tmp_path):
    """A server for one test that may stop it."""
    spoold = Spoold(tmp_path)
    yield spoold
    spoold.terminate()


@pytest.fixture(scope="session")
def grpcurl() -> str:
    path = shutil.which("grpcurl") or str(ROOT / ".venv" / "bin" / "grpcurl")
    assert os.path.exists(path), "grpcurl not found: run scripts/setup.sh"
    return path


@pytest.fixture(scope="session")
def pb(tmp_path_factory):
    """spool.v1's Python messages and stubs, generated from proto/ by grpcio-tools."""
    from grpc_tools import protoc
    out = tmp_path_factory.mktemp("stubs")
    assert protoc.main(["protoc", f"-I{ROOT / 'proto'}", f"--python_out={out}", f"--grpc_python_out={out}",
                        str(ROOT / "proto" / "spool" / "v1" / "queue.proto")]) == 0
    sys.path.insert(0, str(out))
    from spool.v1 import queue_pb2, queue_pb2_grpc
    return queue_pb2, queue_pb2_grpc
