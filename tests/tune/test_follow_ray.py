"""follow_ray ends its command and runs --on-stop once the watched GCS stops answering, and only
then; a TCP listener of the test stands in for the head's GCS, the commands are real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

WATCH = [sys.executable, "-m", "sept_ray.tune.follow_ray", "--interval", "0.2", "--grace", "1"]


def listener() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1024)  # never accepted: room for every poll
    return server


def address(server: socket.socket) -> str:
    return f"127.0.0.1:{server.getsockname()[1]}"


def wait_for(predicate, timeout_s: float = 30) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def child_pid(watcher: subprocess.Popen) -> int:
    assert wait_for(lambda: psutil.Process(watcher.pid).children())
    return psutil.Process(watcher.pid).children()[0].pid


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_the_command_runs_while_the_gcs_answers_and_ends_when_it_stops(tmp_path):
    server = listener()
    stopped = tmp_path / "stopped"
    pid_file = tmp_path / "watch.pid"
    watcher = subprocess.Popen(
        [*WATCH, "--gcs", address(server), "--pid-file", str(pid_file),
         "--on-stop", f"touch {stopped}", "--", "sleep", "300"]
    )  # fmt: skip
    try:
        sleeper = child_pid(watcher)
        assert wait_for(pid_file.exists) and pid_file.read_text().strip() == str(watcher.pid)
        time.sleep(3)  # three grace periods with the GCS answering: everything still runs
        assert watcher.poll() is None and not gone(sleeper) and not stopped.exists()
        server.close()
        assert watcher.wait(timeout=30) == 0
        assert gone(sleeper) and stopped.exists() and not pid_file.exists()
    finally:
        server.close()
        if watcher.poll() is None:
            watcher.kill()


def test_a_terminated_watcher_ends_its_command_but_runs_no_on_stop(tmp_path):
    server = listener()
    stopped = tmp_path / "stopped"
    watcher = subprocess.Popen(
        [*WATCH, "--gcs", address(server), "--on-stop", f"touch {stopped}", "--", "sleep", "300"]
    )
    try:
        sleeper = child_pid(watcher)
        os.kill(watcher.pid, signal.SIGTERM)
        assert watcher.wait(timeout=30) == 128 + signal.SIGTERM
        assert wait_for(lambda: gone(sleeper)) and not stopped.exists()
    finally:
        server.close()
        if watcher.poll() is None:
            watcher.kill()


def test_a_command_that_ends_by_itself_ends_the_watcher_with_its_status(tmp_path):
    server = listener()
    try:
        done = subprocess.run(
            [*WATCH, "--gcs", address(server), "--", "sh", "-c", "exit 3"], timeout=60
        )
        assert done.returncode == 3
    finally:
        server.close()


def test_without_a_command_it_only_runs_on_stop(tmp_path):
    server = listener()
    gcs = address(server)
    server.close()  # never answers: stopped after the grace period
    marker = Path(tmp_path / "ran")
    done = subprocess.run([*WATCH, "--gcs", gcs, "--on-stop", f"touch {marker}"], timeout=60)
    assert done.returncode == 0 and marker.exists()
