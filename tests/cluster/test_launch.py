"""``make test-cluster``: cluster/onprem.yaml launched for real, on two loopback machines.

The machines (``loopback_machines.py``): the head at 127.0.0.2 and a worker at 127.0.0.3, each an
sshd in its own PID and mount namespaces with its own /tmp and home, one shared folder at
/mnt/shared, a throwaway user with a key and passwordless sudo; on the head PostgreSQL is installed
but stopped; their ssh sessions get RAY_scheduler_spread_threshold=0 (see SPREAD). The test fills
in only what the yaml says to replace (head_ip, worker_ips, ssh_user, ssh_private_key), then, as a
user would, from the repository root:

1. ``ray up`` (the venvs, PostgreSQL started, the MLflow server, Ray on both machines), and waits
   until the worker's Ray has joined;
2. ``ray submit <yaml> sweeps/b2n.py --smoke-test``, with no other argument: the sweep must say it
   writes to /mnt/shared/results, logs to the head's MLflow and joins the cluster, prove the
   results folder is shared, and run its 3 trials on both machines; every run is in the head's
   MLflow server, whose backend store is the head's PostgreSQL, and the artifacts, trial folders
   and table are on the shared folder (nothing in the user's home);
3. ``ray down``, after which no process of the cluster is left on either machine (only the
   machine's sshd, and on the head PostgreSQL, the system's database service).

Whatever happens, the machines (their namespaces and every process in them), the user and the
folders are removed. Long (minutes; ~3 of them installing the venvs): run by ``make test-cluster``,
never by ``make test`` or CI.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml
from loopback_machines import Machines, make_machines, missing_prerequisites, port_taken

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
RAY = Path(os.path.abspath(sys.executable)).with_name("ray")
HEAD, WORKER = "127.0.0.2", "127.0.0.3"
EXPERIMENT = "b2n-smoke"
UP_TIMEOUT_S = 1500
JOIN_TIMEOUT_S = 900
SUBMIT_TIMEOUT_S = 1200
DOWN_TIMEOUT_S = 300
GONE_TIMEOUT_S = 90  # the workers' watchers stop Ray 20 s after the head's Ray stopped
ALLOWED_AFTER_DOWN = {"sshd", "postgres"}
# Each machine counts this host's 2 CPUs, and Ray packs a node before it uses the next (its
# default scheduler_spread_threshold, 0.5): the zero-shot trial ends at once and its actor takes
# the next trial, so all 3 trials can run on the head. With 0 (set on every machine, as the Ray
# config environment variable that `ray start` passes to its processes) Ray places each new trial
# on the least used node, so the trials use both machines. Nothing else changes.
SPREAD = {"RAY_scheduler_spread_threshold": "0"}


class Launch:
    """The ray CLI on this host, as a user would run it, for one filled-in copy of the yaml."""

    def __init__(self, machines: Machines, folder: Path):
        self.machines = machines
        self.folder = folder  # HOME of the ray CLI (its token), the yaml, the command logs
        self.yaml = folder / "onprem.yaml"
        self.transcript: list[str] = []
        self.up = False  # ray up succeeded and both nodes are alive
        self.down = False  # ray down ran

    @property
    def env(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "MLFLOW_", "SEPT_"))
        }
        env.update(HOME=str(self.folder), PATH=f"{RAY.parent}:{env.get('PATH', '')}")
        return env

    def ray(self, *args: str, timeout: float) -> subprocess.CompletedProcess:
        """``ray ARGS`` from the repository root (the yaml's file_mounts are relative to it)."""
        started = time.monotonic()
        try:
            done = subprocess.run(
                [str(RAY), *args], cwd=REPO, env=self.env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            output = (
                exc.output.decode(errors="replace") if isinstance(exc.output, bytes) else exc.output
            )
            done = subprocess.CompletedProcess(exc.cmd, 124, output or "")
        self.transcript.append(
            f"$ ray {' '.join(args)}   # rc {done.returncode}, {time.monotonic() - started:.0f} s\n"
            f"{done.stdout[-6000:]}"
        )
        return done

    def diagnostics(self) -> str:
        return "\n".join(self.transcript[-6:]) + "\n" + self.machines.logs()


def fill_in(machines: Machines, path: Path) -> None:
    """cluster/onprem.yaml with what it says to replace filled in."""
    config = yaml.safe_load((REPO / "cluster" / "onprem.yaml").read_text())
    config["provider"]["head_ip"] = machines.head.ip
    config["provider"]["worker_ips"] = [m.ip for m in machines.machines[1:]]
    config["auth"]["ssh_user"] = machines.user
    config["auth"]["ssh_private_key"] = str(machines.key)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def ray_state_files(cluster_name: str) -> list[Path]:
    """The local provider's state of the cluster on this host (Ray's temp folder)."""
    return [Path("/tmp/ray") / f"cluster-{cluster_name}.{ext}" for ext in ("state", "lock")]


def ray_cli_leftovers() -> set[Path]:
    """What the ray CLI leaves in this host's /tmp: cached configs and ssh control folders."""
    return {*Path("/tmp").glob("ray-config-*"), *Path("/tmp").glob("ray_ssh_*")}


@pytest.fixture(scope="module")
def launch():
    missing = missing_prerequisites()
    if missing:
        pytest.fail(f"make test-cluster needs: {', '.join(missing)}")
    taken = [
        f"{h}:{p}"
        for h, p in [(HEAD, 22), (WORKER, 22), (HEAD, 6379), ("127.0.0.1", 5000)]
        if port_taken(h, p)
    ]
    if taken:
        pytest.fail(f"ports the cluster needs are taken: {taken}")
    cluster_name = yaml.safe_load((REPO / "cluster" / "onprem.yaml").read_text())["cluster_name"]
    state = ray_state_files(cluster_name)
    if any(p.exists() for p in state):
        pytest.fail(f"a cluster {cluster_name!r} is already known to Ray on this host: {state}")
    started = time.monotonic()
    before = ray_cli_leftovers()
    machines = make_machines([HEAD, WORKER], session_env=SPREAD)
    client = machines.root / "client"
    client.mkdir()
    made = Launch(machines, client)
    try:
        fill_in(machines, made.yaml)
        token = made.ray("get-auth-token", "--generate", timeout=60)
        assert token.returncode == 0, made.diagnostics()
        print(f"\nmachines up in {time.monotonic() - started:.0f} s", flush=True)
        yield made
    finally:
        if not made.down:  # a failed step: take the cluster down anyway (its machines go anyway)
            made.ray("down", "-y", str(made.yaml), timeout=DOWN_TIMEOUT_S)
        problems = machines.remove()
        for path in state:
            with contextlib.suppress(OSError):
                path.unlink()
        for path in ray_cli_leftovers() - before:
            subprocess.run(["rm", "-rf", str(path)], check=False)
        print(f"machines removed; the whole launch took {time.monotonic() - started:.0f} s")
        assert not problems, problems


def on_head(launch: Launch, command: str, timeout: float = 120) -> str:
    """``ray exec`` a shell line on the head; what it printed after ``OUT=`` (empty: nothing)."""
    done = launch.ray("exec", str(launch.yaml), command, timeout=timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith("OUT=")]
    return lines[-1][len("OUT=") :].strip() if lines else ""


def alive_nodes(launch: Launch) -> set[str]:
    code = (
        "import ray; ray.init(); "
        "print('OUT=', *sorted(n['NodeManagerAddress'] for n in ray.nodes() if n['Alive']))"
    )
    return set(on_head(launch, f'python -c "{code}"').split())


def test_the_cluster_comes_up_and_the_worker_joins(launch):
    started = time.monotonic()
    up = launch.ray("up", "-y", "--no-config-cache", str(launch.yaml), timeout=UP_TIMEOUT_S)
    assert up.returncode == 0, launch.diagnostics()
    print(f"ray up: {time.monotonic() - started:.0f} s", flush=True)
    deadline, seen = time.monotonic() + JOIN_TIMEOUT_S, set()
    while time.monotonic() < deadline:
        seen = alive_nodes(launch)
        if seen == {HEAD, WORKER}:
            break
        time.sleep(10)
    print(f"both nodes alive after {time.monotonic() - started:.0f} s: {sorted(seen)}", flush=True)
    assert seen == {HEAD, WORKER}, launch.diagnostics()
    launch.up = True


@pytest.fixture(scope="module")
def submitted(launch):
    if not launch.up:
        pytest.fail("the cluster did not come up (see the first test)")
    started = time.monotonic()
    done = launch.ray(
        "submit", str(launch.yaml), "sweeps/b2n.py", "--smoke-test", timeout=SUBMIT_TIMEOUT_S
    )
    print(f"ray submit: {time.monotonic() - started:.0f} s", flush=True)
    return done


def test_the_bare_submit_says_where_it_goes_and_runs_its_trials(launch, submitted):
    out = submitted.stdout
    assert submitted.returncode == 0, launch.diagnostics()
    for line in (
        "results: /mnt/shared/results ($SEPT_RESULTS_DIR)",
        "data: /mnt/shared/data ($SEPT_DATA_ROOT)",
        "MLflow: http://127.0.0.1:5000 ($MLFLOW_TRACKING_URI)",
        "Ray: joins the cluster at auto ($RAY_ADDRESS)",
        f"shared storage: all 2 nodes see /mnt/shared/results ({HEAD}, {WORKER})",
        "3 trials finished, 0 failed",
    ):
        assert line in out, f"{line!r} not in the output\n{launch.diagnostics()}"
    first = [line for line in out.splitlines() if line.startswith(("results:", "synthesizing"))]
    assert first[0].startswith("results:"), "where results go is said first"


def test_every_run_is_in_the_heads_mlflow_on_postgresql(launch, submitted):
    from mlflow.tracking import MlflowClient
    from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

    assert submitted.returncode == 0, launch.diagnostics()
    client = MlflowClient("http://127.0.0.1:5000")  # the head's server (shared loopback network)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None, launch.diagnostics()
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    children = [r for r in runs if MLFLOW_PARENT_RUN_ID in r.data.tags]
    assert len(parents) == 1 and len(children) == 3, launch.diagnostics()
    assert {r.info.status for r in runs} == {"FINISHED"}
    placed = {r.info.run_name: r.data.tags.get("sept.node_ip") for r in children}
    assert set(placed.values()) == {HEAD, WORKER}, f"{placed}\n{launch.diagnostics()}"
    # the server's backend store is the head's PostgreSQL: the runs are rows there
    count = on_head(launch, "echo OUT=$(psql -d mlflow -tAc 'SELECT count(*) FROM runs')")
    assert count == str(len(runs)), launch.diagnostics()
    # artifacts on the shared folder, under the server's --artifacts-destination
    artifacts = launch.machines.shared / "mlflow-artifacts"
    parent = parents[0].info.run_id
    assert list(artifacts.glob(f"{experiment.experiment_id}/{parent}/artifacts/sweep_plan.json"))


def test_results_are_on_the_shared_folder_and_not_in_a_home(launch, submitted):
    assert submitted.returncode == 0, launch.diagnostics()
    shared = launch.machines.shared
    (run_dir,) = [p.parent for p in shared.glob(f"results/{EXPERIMENT}/*/sweep.json")]
    assert (run_dir / "b2n_table.csv").is_file()
    assert len(list((run_dir / "trials").iterdir())) == 3
    assert list(shared.glob("data/*")), "the built-in world is synthesized on shared storage"
    for machine in launch.machines.machines:
        assert not (machine.home / "results").exists(), machine.name


def test_ray_down_leaves_no_process_of_the_cluster(launch):
    started = time.monotonic()
    down = launch.ray("down", "-y", str(launch.yaml), timeout=DOWN_TIMEOUT_S)
    launch.down = True
    assert down.returncode == 0, launch.diagnostics()
    deadline, left = time.monotonic() + GONE_TIMEOUT_S, ["?"]
    while left and time.monotonic() < deadline:
        time.sleep(2)
        left = [
            f"{machine.name}: {line}"
            for machine in launch.machines.machines
            for line in cluster_processes(machine.processes())
        ]
    print(f"ray down, and every process of the cluster gone: {time.monotonic() - started:.0f} s")
    assert not left, "\n".join(left) + "\n" + launch.diagnostics()


def cluster_processes(processes) -> list[str]:
    """Pid and command line of each live process other than sshd and PostgreSQL."""
    found = []
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            if proc.status() != psutil.STATUS_ZOMBIE and proc.name() not in ALLOWED_AFTER_DOWN:
                found.append(f"{proc.pid} {' '.join(proc.cmdline())[:200]}")
    return found
