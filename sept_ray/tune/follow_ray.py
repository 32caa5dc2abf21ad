"""Tie a node's own processes to the cluster's Ray: when the head's Ray stops, stop them too.

``ray down`` runs only ``ray stop`` on the head, and Ray's local provider (``cluster/onprem.yaml``)
stops nothing on the workers: the head's MLflow server and the workers' Ray would keep running.
This watcher polls the head's GCS (a TCP connect to ``--gcs HOST:PORT`` every ``--interval``
seconds); once it has answered and then stayed silent for ``--grace`` seconds, the watcher ends
its ``COMMAND`` (started in a process group of its own: SIGTERM, SIGKILL after 20 s), runs
``--on-stop`` (a shell line, e.g. ``ray stop`` on a worker) and exits. It also exits, with the
command's status, when the command ends by itself, and ends the command when it is terminated::

    python -m sept_ray.tune.follow_ray --gcs 10.0.0.10:6379 -- mlflow server ...   # the head
    python -m sept_ray.tune.follow_ray --gcs $RAY_HEAD_IP:6379 --on-stop 'ray stop'  # a worker

``--pid-file`` holds the watcher's pid while it runs (removed when it exits). A GCS that never
answers within ``--grace`` of the start counts as stopped too.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

KILL_AFTER_S = 20.0


def answers(address: str, timeout_s: float = 2.0) -> bool:
    """Whether something accepts TCP connections at ``HOST:PORT``."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            return True
    except OSError:
        return False


def end_group(proc: subprocess.Popen) -> None:
    """SIGTERM ``proc``'s process group, SIGKILL it if anything is left after 20 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + KILL_AFTER_S
    while time.monotonic() < deadline:
        proc.poll()
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def follow(gcs: str, command: list[str], on_stop: str, interval_s: float, grace_s: float) -> int:
    """Run ``command`` (if any) until the GCS at ``gcs`` has been silent for ``grace_s``; then end
    it and run ``on_stop`` (if any). Returns the exit status (the command's, if it ended first)."""
    proc = subprocess.Popen(command, start_new_session=True) if command else None

    def terminated(signum, frame):  # noqa: ARG001 - signal handler signature
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminated)
    signal.signal(signal.SIGHUP, terminated)
    last_answer = time.monotonic()
    try:
        while True:
            if proc is not None and proc.poll() is not None:
                print(f"follow_ray: {command[0]} ended by itself ({proc.returncode})", flush=True)
                return proc.returncode
            if answers(gcs):
                last_answer = time.monotonic()
            elif time.monotonic() - last_answer > grace_s:
                break
            time.sleep(interval_s)
        print(f"follow_ray: Ray's GCS at {gcs} silent for {grace_s:.0f} s: stopping", flush=True)
        if proc is not None:
            end_group(proc)
        if on_stop:
            return subprocess.run(on_stop, shell=True, check=False).returncode
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            end_group(proc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sept_ray.tune.follow_ray",
        description="Run COMMAND while the Ray cluster's GCS answers; when it stops, end COMMAND "
        "and run --on-stop.",
    )
    parser.add_argument("--gcs", required=True, help="HOST:PORT of the head's GCS")
    parser.add_argument("--on-stop", default="", help="shell line to run once the GCS stopped")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
    parser.add_argument(
        "--grace", type=float, default=20.0, help="seconds of silence that mean stopped"
    )
    parser.add_argument("--pid-file", type=Path, default=None, help="holds this watcher's pid")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG ...]")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command and not args.on_stop:
        parser.error("give a COMMAND to run, --on-stop, or both")
    if args.pid_file is not None:
        args.pid_file.write_text(f"{os.getpid()}\n")
    try:
        return follow(args.gcs, command, args.on_stop, args.interval, args.grace)
    finally:
        if args.pid_file is not None:
            with contextlib.suppress(OSError):
                if args.pid_file.read_text().strip() == str(os.getpid()):
                    args.pid_file.unlink()


if __name__ == "__main__":
    sys.exit(main())
