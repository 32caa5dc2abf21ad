"""The tracking preflight against real HTTP servers on 127.0.0.1 and real folders."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from mlflow_server import free_port

from sept_ray.config import ConfigError
from sept_ray.tune.preflight import check_tracking, public_uri


@pytest.fixture
def server():
    """A real HTTP server on 127.0.0.1 answering ``/health`` with the status in ``codes[0]``."""
    codes = [200]
    paths = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            paths.append(self.path)
            self.send_response(codes[0])
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", codes, paths
    httpd.shutdown()
    httpd.server_close()


def test_a_server_that_answers_passes_and_only_health_is_asked(server):
    uri, codes, paths = server
    check_tracking(uri)
    codes[0] = 401  # a protected server answers: the client sends credentials from the env
    check_tracking(uri + "/")
    assert paths == ["/health", "/health"]


def test_a_server_that_is_not_mlflow_is_named(server):
    uri, codes, _ = server
    codes[0] = 404
    with pytest.raises(ConfigError, match=f"{uri}/health answered HTTP 404"):
        check_tracking(uri)


def test_nothing_listening_is_named_without_waiting_for_retries():
    uri = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConfigError, match=f"--mlflow-uri {uri}: no MLflow server answers"):
        check_tracking(uri)


@pytest.mark.parametrize(
    ("uri", "shown", "where"),
    [
        ("http://me:pw123@127.0.0.1:5000", "http://127.0.0.1:5000", "MLFLOW_TRACKING_PASSWORD"),
        ("https://me:pw123@mlflow.lab", "https://mlflow.lab", "MLFLOW_TRACKING_TOKEN"),
        ("postgresql://me:pw123@db:5432/mlflow", "postgresql://db:5432/mlflow", "PGPASSWORD"),
    ],
)
def test_a_password_in_the_uri_is_refused_and_never_shown(uri, shown, where):
    with pytest.raises(ConfigError) as caught:
        check_tracking(uri)
    message = str(caught.value)
    assert message.startswith(f"--mlflow-uri {shown}: holds a password") and where in message
    assert "pw123" not in message and "me" not in message.split(":")[1]
    assert public_uri(uri) == shown


def test_an_unreachable_database_is_named():
    uri = f"postgresql://127.0.0.1:{free_port()}/mlflow"
    with pytest.raises(ConfigError, match=f"--mlflow-uri {uri}: cannot connect to the database"):
        check_tracking(uri)


def test_a_local_store_needs_a_writable_folder(tmp_path):
    check_tracking(f"sqlite:///{tmp_path}/new/folder/mlflow.db")  # made later: fine
    assert not (tmp_path / "new").exists()  # the check creates nothing
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError, match="afile is not a writable folder"):
        check_tracking(f"sqlite:///{tmp_path}/afile/mlflow.db")
    with pytest.raises(ConfigError, match="afile is not a writable folder"):
        check_tracking(f"file://{tmp_path}/afile/runs")
