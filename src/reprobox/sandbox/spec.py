"""Policy + image + mounts -> the container spec the engine creates (pure, unit-tested)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from reprobox import errors
from reprobox.engine.containers import BindMount, ContainerSpec
from reprobox.engine.labels import for_resource
from reprobox.sandbox.policy import Policy

DEFAULT_WORKDIR = "/work"
MOUNT_ROOT = "/mnt"
KIND = "sandbox"


@dataclass(frozen=True)
class Mount:
    """A host folder (or file) to show inside the box, read-only unless ``writable``.
    ``source`` may be given as a string; it is kept as a :class:`~pathlib.Path`."""

    source: str | Path
    target: str | None = None
    writable: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", Path(self.source))

    @classmethod
    def parse(cls, text: str) -> Mount:
        """``PATH`` or ``PATH:rw`` (or ``PATH:ro``), as the CLI's ``--mount`` takes it."""
        path, sep, mode = text.rpartition(":")
        if not sep or mode not in ("rw", "ro"):
            path, mode = text, "ro"
        return cls(Path(path), None, mode == "rw")

    def check_writable(self, user: str) -> None:
        """A writable mount must be writable for ``user`` (``UID[:GID]``, the box's user):
        :class:`~reprobox.errors.UsageError` saying why not and what to change."""
        source = Path(self.source).expanduser().resolve()
        if self.writable and source.exists():
            _check_writable(source, user)

    def bind(self) -> BindMount:
        """The engine bind for this mount; the source must exist (never created silently)."""
        source = Path(self.source).expanduser().resolve()
        if not source.exists():
            raise errors.UsageError(f"mount source {self.source} does not exist")
        target = self.target or f"{MOUNT_ROOT}/{source.name or 'root'}"
        if not PurePosixPath(target).is_absolute():
            raise errors.UsageError(f"mount target {target} must be an absolute path")
        return BindMount(str(source), target, read_only=not self.writable)


def _check_writable(source: Path, user: str) -> None:
    """Refuse a writable mount the box's user could not write to: the kernel checks the
    host's owner and mode (the engine maps no users), and a box without capabilities has no
    way around them, root included."""
    uid_text, _, gid_text = user.partition(":")
    if not uid_text.isdigit():
        return  # a user name: resolved inside the image, cannot be checked here
    uid, gid = int(uid_text), int(gid_text) if gid_text.isdigit() else None
    info = source.stat()
    if info.st_uid == uid:
        bits = info.st_mode >> 6
    elif info.st_gid == gid:
        bits = info.st_mode >> 3
    else:
        bits = info.st_mode
    need = 0o3 if source.is_dir() else 0o2  # a folder needs write and search
    if bits & need != need:
        raise errors.UsageError(
            f"writable mount {source}: the box runs as uid {uid}, which cannot write there "
            f"(owner uid {info.st_uid}, mode {info.st_mode & 0o7777:04o})",
            f"let uid {uid} write to it (e.g. chown {uid} {source}, or chmod o+w), "
            "or mount it read-only",
        )


def boxed(
    spec: ContainerSpec,
    command: Sequence[str],
    auto_remove: bool,
    user: str | None = None,
) -> ContainerSpec:
    """``spec`` with ``command`` (a :mod:`reprobox.sandbox.boxinit` command line) as its
    main process: boxinit mounted read-only and serving as init, stdin open for the owner's
    lifeline, and (``auto_remove``) the container removed by the engine once boxinit exits;
    else removed by a reaper if the owner dies before it removed the container itself.
    boxinit sets the box's file-size and open-file limits on itself too, so every process it
    starts has them; a session box, whose commands are execs, has them set by the wrapper of
    every command it runs (:func:`reprobox.sandbox.keeper.wrapper`)."""
    from reprobox.sandbox import boxinit

    init = BindMount(str(boxinit.binary()), boxinit.MOUNT_PATH, read_only=True)
    return replace(
        spec,
        command=boxinit.with_ulimits(command, spec.ulimits),
        user=user or spec.user,
        init=False,
        stdin=True,
        auto_remove=auto_remove,
        reaped=not auto_remove,
        binds=(*spec.binds, init),
        ulimits_by_init=True,
    )


def keeper_user(policy: Policy) -> str:
    """The user of a session's keeper process: never the command's user, so the command
    (which cannot gain capabilities) can neither signal nor outlive-protect it."""
    return "65534:65534" if policy.runs_as_root else "0:0"


def container_spec(
    image: str,
    policy: Policy,
    command: Iterable[str],
    *,
    mounts: Iterable[Mount] = (),
    workdir: str = DEFAULT_WORKDIR,
    labels: dict[str, str] | None = None,
    user: str | None = None,
) -> ContainerSpec:
    """The container for ``command`` under ``policy`` (``user`` overrides the policy's)."""
    return ContainerSpec(
        image=image,
        command=tuple(command),
        user=user or policy.user,
        env=_env(policy, workdir),
        workdir=workdir,
        labels=tuple(sorted(for_resource(KIND, labels).items())),
        network=policy.network,
        read_only=policy.read_only_root,
        tmpfs=_tmpfs(policy, workdir),
        cap_drop=("ALL",) if policy.drop_all_capabilities else (),
        cap_add=policy.add_capabilities,
        security_opt=_security_opt(policy),
        pids_limit=policy.pids_limit,
        memory_bytes=policy.memory_bytes,
        memory_swap_bytes=_swap(policy),
        nano_cpus=None if policy.cpus is None else int(policy.cpus * 1e9),
        ulimits=_ulimits(policy),
        init=policy.init,
        runtime=policy.runtime,
        binds=tuple(m.bind() for m in mounts),
    )


def _env(policy: Policy, workdir: str) -> tuple[tuple[str, str], ...]:
    """The policy's environment; a default ``HOME`` follows the working folder."""
    if workdir == DEFAULT_WORKDIR or dict(policy.env).get("HOME") != DEFAULT_WORKDIR:
        return policy.env
    return tuple((k, workdir if k == "HOME" else v) for k, v in policy.env)


def _tmpfs(policy: Policy, workdir: str) -> tuple[tuple[str, str], ...]:
    uid, _, gid = policy.user.partition(":")
    owner = f",uid={uid},gid={gid or uid}" if uid.isdigit() and (gid or uid).isdigit() else ""
    return (
        ("/tmp", f"rw,nosuid,nodev,size={policy.tmp_bytes},mode=1777"),
        (workdir, f"rw,nosuid,nodev,size={policy.workdir_bytes},mode=0755{owner}"),
    )


def _security_opt(policy: Policy) -> tuple[str, ...]:
    opts = ["no-new-privileges"] if policy.no_new_privileges else []
    if not policy.seccomp:
        opts.append("seccomp=unconfined")
    return tuple(opts)


def _swap(policy: Policy) -> int | None:
    if policy.memory_bytes is None:
        return None
    return -1 if policy.swap else policy.memory_bytes


def _ulimits(policy: Policy) -> tuple[tuple[str, int], ...]:
    limits = (("fsize", policy.file_size_bytes), ("nofile", policy.open_files))
    return tuple((name, value) for name, value in limits if value is not None)
