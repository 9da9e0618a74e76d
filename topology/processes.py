"""Starting and stopping the stack's processes: each in its own process group, so that gunicorn's workers
and trytond-worker's task processes stop with their parent; read from /proc (Linux) which of them are alive
and where they listen."""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

PR_SET_PDEATHSIG = 1


class StackError(Exception):
    "A part of the stack did not start, or did not answer before its deadline"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def new_group_dying_with_parent() -> None:
    # Own process group: stopping it reaches the children (gunicorn workers, task processes).
    # The parent-death signal: if the process that started the stack is killed outright, its children
    # get SIGTERM instead of living on as orphans.
    os.setsid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


@dataclass
class Process:
    "One started command; ``pgid`` is its process group (its pid)."
    name: str
    command: list[str]
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def pgid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def group_pids(self) -> list[int]:
        "Every process still in this process group, the leader and its children"
        return group_members(self.pgid)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.pgid, signum)
        except ProcessLookupError:
            pass

    def stop(self, deadline: float = 10.0) -> None:
        "SIGTERM to the whole group, SIGKILL to what is left after ``deadline`` seconds; reaps the leader"
        if self.group_pids():
            self.signal_group(signal.SIGTERM)
            wait_until(lambda: not self.group_pids(), deadline, raise_error=False)
            if self.group_pids():
                self.signal_group(signal.SIGKILL)
                wait_until(lambda: not self.group_pids(), 5.0, raise_error=False)
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def start_process(name: str, command: list[str], log: Path, environment: dict[str, str],
                  cwd: Optional[Path] = None) -> Process:
    output = open(log, "ab")
    try:
        popen = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                 env=environment, cwd=cwd, preexec_fn=new_group_dying_with_parent)
    finally:
        output.close()
    return Process(name, command, popen, log)


def wait_until(condition: Callable[[], object], deadline: float, what: str = "",
               raise_error: bool = True, interval: float = 0.05) -> object:
    "Polls ``condition`` until it returns something true, at most ``deadline`` seconds"
    end = time.monotonic() + deadline
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > end:
            if raise_error:
                raise StackError(f"{what}: no answer after {deadline:.0f} s")
            return result
        time.sleep(interval)


def group_members(pgid: int) -> list[int]:
    "Pids of the living (not zombie) processes whose process group is ``pgid``"
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields follow its last ")".
        fields = stat[stat.rindex(")") + 2:].split()
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            members.append(int(entry))
    return members


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _decode_address(hex_address: str, ipv6: bool) -> str:
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    if ipv6:
        # /proc stores the address as four host-order 32-bit words
        raw = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
        return f"[{socket.inet_ntop(socket.AF_INET6, raw)}]:{int(port, 16)}"
    return f"{socket.inet_ntop(socket.AF_INET, raw[::-1])}:{int(port, 16)}"


def listening_addresses(pid: int) -> list[str]:
    "The TCP addresses (``host:port``) the process ``pid`` listens on"
    inodes = _socket_inodes(pid)
    found = []
    for table, ipv6 in (("tcp", False), ("tcp6", True)):
        try:
            rows = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.append(_decode_address(fields[1], ipv6))
    return found


def is_loopback_address(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    return host.startswith("127.") or host == "::1"
