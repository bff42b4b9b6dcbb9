"""``reprobox run --explain``: what a box blocks and what it does not, in plain words."""

from __future__ import annotations

from collections.abc import Iterable

from reprobox.sandbox.policy import MiB, Policy
from reprobox.sandbox.spec import Mount


def explain(policy: Policy, mounts: Iterable[Mount] = (), image: str = "") -> str:
    """A plain-words description of the box ``policy`` and ``mounts`` make (pure)."""
    blocks = [line for line in _blocks(policy) if line]
    gaps = [line for line in _gaps(policy, tuple(mounts)) if line]
    lines = [f"reprobox run{f' in {image}' if image else ''}", "", "This box blocks:"]
    lines += [f"  - {line}" for line in blocks]
    lines += ["", "This box does NOT protect against:"]
    lines += [f"  - {line}" for line in gaps]
    return "\n".join(lines)


def _size(value: int | None) -> str:
    return "no limit" if value is None else f"{value / MiB:g} MiB"


def _blocks(p: Policy) -> list[str]:
    return [
        "network access: the container is created with networking disabled (loopback only)"
        if p.network == "disabled"
        else "network access: only a loopback interface (network 'none')"
        if p.network == "none"
        else "",
        "writing to the image's files: the root filesystem is read-only; only /tmp "
        f"({_size(p.tmp_bytes)}) and the working folder ({_size(p.workdir_bytes)}) are "
        "writable, in memory, and vanish with the box"
        if p.read_only_root
        else "",
        "privileged operations (mount, raw sockets, changing owners, loading modules): all "
        "capabilities are dropped"
        if p.drop_all_capabilities and not p.add_capabilities
        else "",
        "gaining privileges through setuid binaries: no-new-privileges is set"
        if p.no_new_privileges
        else "",
        "dangerous system calls: the engine's default seccomp profile filters them"
        if p.seccomp
        else "",
        f"running as root: commands run as user {p.user}" if not p.runs_as_root else "",
        f"fork bombs: at most {p.pids_limit} processes" if p.pids_limit else "",
        f"memory exhaustion: {_size(p.memory_bytes)} of memory"
        + ("" if p.swap else ", no swap")
        + " (the command is killed past it)"
        if p.memory_bytes
        else "",
        f"CPU hogging: {p.cpus:g} CPU" if p.cpus else "",
        f"huge files: files are limited to {_size(p.file_size_bytes)}" if p.file_size_bytes else "",
        f"runaway commands: killed after {p.timeout_s:g} s, with every process they started"
        if p.timeout_s
        else "",
        f"output floods: {_size(p.output_cap_bytes)} per stream is kept, the rest is counted "
        "and dropped",
        "host secrets in the environment: the box gets a minimal environment, nothing from yours",
        "reaching the container engine: its socket is not mounted",
    ]


def _gaps(p: Policy, mounts: tuple[Mount, ...]) -> list[str]:
    lines = [
        "kernel bugs: with gVisor (runsc) the command talks to a user-space kernel, which "
        "shrinks the host kernel's exposure"
        if p.runtime == "runsc"
        else "kernel bugs: the box shares the host's kernel; an exploitable kernel flaw escapes "
        "it (use --runtime runsc for gVisor's user-space kernel)",
        "NETWORK: --network host shares the host's network: the command can reach every "
        "service listening on the host, including 127.0.0.1, and the internet"
        if p.network == "host"
        else "",
        "reading what the image itself contains (treat it as visible to the command)",
        "side channels (timing, CPU caches) and using its CPU and memory share to the limit",
    ]
    for mount in mounts:
        access = "read AND WRITE" if mount.writable else "read"
        lines.append(
            f"{mount.source}: mounted, so the command can {access} everything in it"
            + (" (changes reach your files)" if mount.writable else "")
        )
    if p.runs_as_root:
        lines.append("root in the box: the command runs as root (user namespaces are off)")
    return lines
