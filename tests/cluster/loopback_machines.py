"""Loopback "machines" for launching a cluster config for real (``make test-cluster``).

Each machine is an sshd, listening on its own loopback address (port 22), in its own PID and mount
namespaces (``unshare``): its own ``/proc``, ``/tmp`` and home folder for the machine's user, and
the one shared folder mounted at ``/mnt/shared`` on every machine. The head also gets its own,
empty PostgreSQL installation state (``/etc/postgresql``, ``/var/lib/postgresql``,
``/run/postgresql``, ``/var/log/postgresql``) holding one cluster, created and left stopped, as on a
host where PostgreSQL is installed but not running. The network namespace is the host's (loopback
addresses only). The user is a throwaway account (passwordless sudo, a key made for the test).

Everything is undone by :meth:`Machines.remove`: the machines' namespaces are killed (so every
process a machine started goes with it), the account, its sudoers file and the folders are removed.
Needs root, ``sshd``, ``sudo``, ``rsync``, ``unshare`` and PostgreSQL's server packages.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SSHD = "/usr/sbin/sshd"
NEEDED = (SSHD, "/usr/bin/sudo", "/usr/bin/rsync", "/usr/bin/unshare", "/usr/bin/ssh-keygen")
PG_STATE = ("/etc/postgresql", "/var/lib/postgresql", "/run/postgresql", "/var/log/postgresql")


def missing_prerequisites() -> list[str]:
    """What this machine lacks to run loopback machines (empty: nothing)."""
    missing = [] if os.geteuid() == 0 else ["root (namespaces, sshd, a throwaway user)"]
    missing += [path for path in NEEDED if not os.access(path, os.X_OK)]
    if not shutil.which("pg_createcluster") or not glob.glob("/usr/lib/postgresql/*/bin/postgres"):
        missing.append("PostgreSQL's server (apt-get install postgresql)")
    return missing


def port_taken(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run ``cmd`` (checked, output captured as text)."""
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120, **kwargs)


@dataclass
class Machine:
    name: str
    ip: str
    folder: Path  # home/, tmp/, sshd_config, host key, sshd.log (and pg/ on the head)
    head: bool
    unshare: subprocess.Popen | None = None

    @property
    def home(self) -> Path:
        return self.folder / "home"

    @property
    def tmp(self) -> Path:
        return self.folder / "tmp"

    @property
    def log(self) -> Path:
        return self.folder / "sshd.log"

    def init_pid(self) -> int | None:
        """The host pid of the machine's PID 1 (its sshd), or None once it is gone."""
        if self.unshare is None:
            return None
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(self.unshare.pid).children():
                return child.pid
        return None

    def processes(self) -> list[psutil.Process]:
        """Every process in the machine's PID namespace."""
        init = self.init_pid()
        if init is None:
            return []
        try:
            namespace = os.readlink(f"/proc/{init}/ns/pid")
        except OSError:
            return []
        found = []
        for proc in psutil.process_iter():
            with contextlib.suppress(OSError, psutil.Error):
                if os.readlink(f"/proc/{proc.pid}/ns/pid") == namespace:
                    found.append(proc)
        return found


@dataclass
class Machines:
    """A throwaway user and loopback machines: the head first, then the workers."""

    root: Path
    user: str
    machines: list[Machine] = field(default_factory=list)
    session_env: dict[str, str] = field(default_factory=dict)  # in every ssh session's environment
    made_dirs: list[Path] = field(default_factory=list)  # mount points made on the host

    @property
    def key(self) -> Path:
        return self.root / "id_ed25519"

    @property
    def shared(self) -> Path:
        return self.root / "shared"

    @property
    def sudoers(self) -> Path:
        return Path("/etc/sudoers.d") / self.user

    @property
    def head(self) -> Machine:
        return self.machines[0]

    def logs(self, lines: int = 40) -> str:
        """The last lines of every machine's sshd log."""
        out = []
        for machine in self.machines:
            text = machine.log.read_text(errors="replace") if machine.log.exists() else ""
            out.append(
                f"----- sshd of {machine.name} ({machine.ip})\n"
                + "\n".join(text.splitlines()[-lines:])
            )
        return "\n".join(out)

    def remove(self) -> list[str]:
        """Kill every machine (its PID namespace with all its processes), remove the user, its
        sudoers file and the folders. Returns what could not be undone (empty: everything)."""
        problems = []
        for machine in self.machines:
            init = machine.init_pid()
            if init is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(init, signal.SIGKILL)  # PID 1 dies: the kernel kills the namespace
            if machine.unshare is not None:
                try:
                    machine.unshare.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    machine.unshare.kill()
                    problems.append(f"unshare of {machine.name} did not end")
        for machine in self.machines:
            left = machine.processes()
            if left:
                problems.append(f"{machine.name}: processes left: {[p.pid for p in left]}")
        self.sudoers.unlink(missing_ok=True)
        try:
            pwd.getpwnam(self.user)
        except KeyError:
            pass
        else:
            done = subprocess.run(["userdel", self.user], capture_output=True, text=True)
            if done.returncode != 0:
                problems.append(f"userdel {self.user}: {done.stderr.strip()}")
        for path in reversed(self.made_dirs):
            with contextlib.suppress(OSError):
                path.rmdir()
        subprocess.run(["rm", "-rf", str(self.root)], check=False)  # two venvs: rm is faster
        if self.root.exists():
            problems.append(f"{self.root} could not be removed")
        return problems


def make_machines(ips: list[str], session_env: dict[str, str] | None = None) -> Machines:
    """Create the user and start one machine per address (the first is the head), whose ssh
    sessions get ``session_env``; on any failure everything made so far is removed before the
    error is raised."""
    user = f"septlb{secrets.token_hex(3)}"
    root = Path(tempfile.mkdtemp(prefix="sept-machines-", dir="/var/tmp"))  # not under /tmp
    made = Machines(root, user, session_env=dict(session_env or {}))
    try:
        root.chmod(0o755)
        run(
            [
                "useradd",
                "--no-create-home",
                "--home-dir",
                f"/home/{user}",
                "--shell",
                "/bin/bash",
                user,
            ]
        )
        run(["usermod", "-p", "*", user])  # no password, but not locked: key logins work
        account = pwd.getpwnam(user)
        made.sudoers.write_text(f"{user} ALL=(ALL) NOPASSWD:ALL\n")
        made.sudoers.chmod(0o440)
        for mount_point in [Path(account.pw_dir), Path("/run/sshd")]:
            if not mount_point.exists():
                mount_point.mkdir(parents=True)
                made.made_dirs.append(mount_point)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", user, "-f", str(made.key)])
        made.shared.mkdir()
        os.chown(made.shared, account.pw_uid, account.pw_gid)
        for index, ip in enumerate(ips):
            machine = Machine(
                "head" if index == 0 else f"worker{index}", ip, root / f"m{index}", index == 0
            )
            made.machines.append(machine)
            prepare(machine, made, account)
            start(machine, made, account)
        for machine in made.machines:
            wait_for_sshd(machine, made)
    except BaseException:
        made.remove()
        raise
    return made


def prepare(machine: Machine, made: Machines, account: pwd.struct_passwd) -> None:
    """The machine's home (a copy of /etc/skel, the key authorized, this host's pip settings),
    its /tmp, its sshd config and host key, and on the head its PostgreSQL state folders."""
    machine.folder.mkdir()
    shutil.copytree("/etc/skel", machine.home, symlinks=True)
    ssh = machine.home / ".ssh"
    ssh.mkdir(mode=0o700)
    (ssh / "authorized_keys").write_text(Path(f"{made.key}.pub").read_text())
    (ssh / "authorized_keys").chmod(0o600)
    (ssh / "environment").write_text("".join(f"{k}={v}\n" for k, v in made.session_env.items()))
    pip_conf = Path(
        "/root/.config/pip/pip.conf"
    )  # an offline wheel mirror, where this host has one
    if pip_conf.is_file():
        (machine.home / ".config" / "pip").mkdir(parents=True)
        shutil.copy(pip_conf, machine.home / ".config" / "pip" / "pip.conf")
    for path in [machine.home, *machine.home.rglob("*")]:
        os.lchown(path, account.pw_uid, account.pw_gid)
    machine.home.chmod(0o755)
    machine.tmp.mkdir()
    machine.tmp.chmod(0o1777)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(machine.folder / "host_key")])
    (machine.folder / "sshd_config").write_text(
        "\n".join(
            [
                f"ListenAddress {machine.ip}:22",
                f"HostKey {machine.folder / 'host_key'}",
                f"PidFile {machine.folder / 'sshd.pid'}",
                f"AllowUsers {made.user}",
                "PermitRootLogin no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "AuthorizedKeysFile .ssh/authorized_keys",
                "UsePAM no",
                "PermitUserEnvironment yes",  # ~/.ssh/environment: Machines.session_env
                "MaxStartups 100:30:200",
                "MaxSessions 100",
                "LogLevel INFO",
                "",
            ]
        )
    )
    if machine.head:
        postgres = pwd.getpwnam("postgres")
        for path in PG_STATE:
            folder = machine.folder / "pg" / path.strip("/").replace("/", "_")
            folder.mkdir(parents=True)
            os.chown(folder, postgres.pw_uid, postgres.pw_gid)
            folder.chmod(0o2775 if path.startswith("/run") else 0o755)


def namespace_script(machine: Machine, made: Machines) -> str:
    """The shell script that sets up the machine's mounts and becomes its sshd (PID 1)."""
    home = pwd.getpwnam(made.user).pw_dir
    lines = [
        "set -e",
        f"mount --bind {machine.tmp} /tmp",
        f"mount --bind {machine.home} {home}",
        "mount -t tmpfs -o mode=755 tmpfs /mnt",
        "mkdir /mnt/shared",
        f"mount --bind {made.shared} /mnt/shared",
    ]
    if machine.head:
        for path in PG_STATE:
            state = machine.folder / "pg" / path.strip("/").replace("/", "_")
            lines.append(f"mount --bind {state} {path}")
        version = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))[-1].split("/")[4]
        conf = f"/etc/postgresql/{version}/main/postgresql.conf"
        lines += [  # installed, not running; no TCP: the socket only, no clash with the host
            f"pg_createcluster {version} main > {machine.folder / 'pg_createcluster.log'} 2>&1",
            f"echo \"listen_addresses = ''\" >> {conf}",
        ]
    lines.append(f"exec {SSHD} -D -e -f {machine.folder / 'sshd_config'}")
    return "\n".join(lines)


def start(machine: Machine, made: Machines, account: pwd.struct_passwd) -> None:
    log = open(machine.log, "w")  # noqa: SIM115 - the sshd writes to it for the machine's life
    machine.unshare = subprocess.Popen(
        ["unshare", "--pid", "--fork", "--mount-proc", "--mount", "--propagation", "private",
         "--", "bash", "-c", namespace_script(machine, made)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()


def wait_for_sshd(machine: Machine, made: Machines, timeout_s: float = 60) -> None:
    """Until the machine's user can log in with the key (raises with the sshd log if not)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if machine.unshare is not None and machine.unshare.poll() is not None:
            break
        done = subprocess.run(
            ["ssh", "-i", str(made.key), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5",
             f"{made.user}@{machine.ip}", "true"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        if done.returncode == 0:
            return
        time.sleep(1)
    raise RuntimeError(f"no ssh login to {machine.name} ({machine.ip}):\n{made.logs()}")
