"""TLS (docs/workers.md: TLS): spoold with a certificate, reached by grpcurl, grpcio, spoolctl
and the Python Worker; mutual TLS refusing clients without a CA-signed certificate."""
import http.client
import json
import ssl
import subprocess
import threading

import grpc
import pytest

from conftest import Spoold
from spool_client import Client, JobState, SpoolError, Worker
from test_spoolctl import spoolctl_binary


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def issue(directory, name, ca, *, server):
    """A key and a certificate for `name`, signed by `ca`."""
    extensions = directory / f"{name}.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n" if server
                          else "extendedKeyUsage=clientAuth\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-subj", f"/CN={name}",
            "-out", f"{name}.csr", cwd=directory)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-days", "2", "-extfile", str(extensions), "-out", f"{name}.pem", cwd=directory)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("certs")
    for ca in ("ca", "rogue-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-subj", f"/CN={ca}",
                "-days", "2", "-out", f"{ca}.pem", cwd=directory)
    issue(directory, "server", "ca", server=True)
    issue(directory, "client", "ca", server=False)
    issue(directory, "rogue", "rogue-ca", server=False)
    return directory


def read(path):
    return path.read_bytes()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory, certs):
    directory = tmp_path_factory.mktemp("tls")
    config = directory / "spool.yaml"
    config.write_text(f"tls: {{cert: {certs / 'server.pem'}, key: {certs / 'server.key'}}}\n"
                      "types: {py.echo: {remote: {lease: 5}}}\n")
    spoold = Spoold(directory, "--config", str(config))
    yield spoold
    spoold.terminate()


def test_grpcio_enqueues_and_a_python_worker_takes_jobs_over_tls(tls_server, certs):
    credentials = grpc.ssl_channel_credentials(root_certificates=read(certs / "ca.pem"))
    worker = Worker(tls_server.address, name="tls-worker", credentials=credentials)
    worker.register("py.echo", lambda job: job.payload.upper())
    thread = threading.Thread(target=lambda: worker.run(handle_signals=False), daemon=True)
    thread.start()
    with Client(tls_server.address, credentials=credentials) as client:
        job = client.wait(client.enqueue("py.echo", "over tls").job.id)
        assert job.state == JobState.SUCCEEDED and job.result == b"OVER TLS"
        assert [w.name for w in client.status().remote_workers] == ["tls-worker"]
    worker.stop()
    thread.join(timeout=30)


def test_a_cleartext_client_or_an_untrusting_one_gets_nothing(tls_server, certs):
    with Client(tls_server.address, timeout=5) as plain:
        with pytest.raises(SpoolError) as refused:
            plain.status()
        assert refused.value.code == grpc.StatusCode.UNAVAILABLE
    wrong = grpc.ssl_channel_credentials(root_certificates=read(certs / "rogue-ca.pem"))
    with Client(tls_server.address, timeout=5, credentials=wrong) as untrusting:
        with pytest.raises(SpoolError) as refused:
            untrusting.status()
        assert refused.value.code == grpc.StatusCode.UNAVAILABLE
    # The server carries on.
    with Client(tls_server.address, credentials=grpc.ssl_channel_credentials(read(certs / "ca.pem"))) as client:
        client.status()


def test_grpcurl_and_spoolctl_connect_with_the_ca(tls_server, certs, grpcurl):
    listed = subprocess.run([grpcurl, "-cacert", str(certs / "ca.pem"), tls_server.address, "list"],
                            capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0, listed.stderr
    assert "spool.v1.Workers" in listed.stdout.split()
    run = subprocess.run([spoolctl_binary(), "enqueue", "spool.echo", "--payload", "hi", "--watch",
                          "--server", tls_server.address, "--cacert", str(certs / "ca.pem")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "SUCCEEDED" in run.stdout
    plain = subprocess.run([spoolctl_binary(), "status", "--server", tls_server.address],
                           capture_output=True, text=True, timeout=60)
    assert plain.returncode == 1


def test_mutual_tls_takes_only_clients_with_a_certificate_from_the_ca(tmp_path, certs, grpcurl):
    spoold = Spoold(tmp_path, "--tls-cert", str(certs / "server.pem"), "--tls-key", str(certs / "server.key"),
                    "--tls-client-ca", str(certs / "ca.pem"))
    try:
        root = read(certs / "ca.pem")
        signed = grpc.ssl_channel_credentials(root, read(certs / "client.key"), read(certs / "client.pem"))
        with Client(spoold.address, credentials=signed) as client:
            assert client.wait(client.enqueue("spool.echo", "x").job.id).state == JobState.SUCCEEDED
        for credentials in (grpc.ssl_channel_credentials(root),
                            grpc.ssl_channel_credentials(root, read(certs / "rogue.key"), read(certs / "rogue.pem"))):
            with Client(spoold.address, credentials=credentials, timeout=5) as refused_client:
                with pytest.raises(SpoolError) as refused:
                    refused_client.status()
                assert refused.value.code == grpc.StatusCode.UNAVAILABLE
        run = subprocess.run([spoolctl_binary(), "status", "--server", spoold.address, "--cacert", str(certs / "ca.pem"),
                              "--cert", str(certs / "client.pem"), "--key", str(certs / "client.key")],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        curl = subprocess.run([grpcurl, "-cacert", str(certs / "ca.pem"), "-cert", str(certs / "client.pem"),
                               "-key", str(certs / "client.key"), spoold.address, "list"],
                              capture_output=True, text=True, timeout=30)
        assert curl.returncode == 0, curl.stderr
    finally:
        spoold.terminate()


@pytest.mark.parametrize("flags, expected", [
    (["--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"], "tls.cert /nonexistent.pem"),
    (["--tls-cert", "{certs}/server.pem"], "--tls-cert and --tls-key go together"),
    (["--tls-cert", "{certs}/server.pem", "--tls-key", "{certs}/client.key"], "do they match?"),
    (["--tls-cert", "{certs}/server.pem", "--tls-key", "{certs}/server.csr"], "tls.key"),
])
def test_bad_tls_settings_stop_spoold_at_start_naming_the_file(tmp_path, certs, flags, expected):
    from conftest import spoold_binary
    flags = [flag.replace("{certs}", str(certs)) for flag in flags]
    result = subprocess.run([spoold_binary(), "--listen", "127.0.0.1:0", "--db", str(tmp_path / "s.db"), *flags],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert expected in result.stderr + result.stdout


def test_a_browser_gets_the_dashboard_and_the_api_over_https_on_the_same_port(tls_server, certs):
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.set_alpn_protocols(["http/1.1"])
    connection = http.client.HTTPSConnection("127.0.0.1", tls_server.port, context=context, timeout=10)
    connection.request("GET", "/")
    response = connection.getresponse()
    assert response.status == 200 and b"<title>Spool</title>" in response.read()
    assert connection.sock.selected_alpn_protocol() == "http/1.1"
    connection.request("GET", "/api/v1/status")
    response = connection.getresponse()
    assert response.status == 200 and json.loads(response.read())["queues"]
    connection.close()
