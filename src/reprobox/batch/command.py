"""A job as the argument list of its box's command.

A job without files or stdin runs its command as is (a string through ``sh -c``). Otherwise a
small ``sh`` script is the box's command: it writes each file into the working folder, then
runs the command with the job's stdin on a pipe. The files' text and stdin travel as the
script's arguments (each up to 128 KiB, checked when the job is read), so nothing but
``/bin/sh`` is needed in the image.
"""

from __future__ import annotations

from reprobox.batch.jobs import Job

# $1: number of files; then path, text pairs; then "1" + stdin text, or "0"; then the command.
SCRIPT = r"""set -e
n=$1; shift
while [ "$n" -gt 0 ]; do
  case $1 in */*) mkdir -p -- "${1%/*}" ;; esac
  printf '%s' "$2" > "$1"
  shift 2; n=$((n - 1))
done
has_stdin=$1; shift
set +e
if [ "$has_stdin" = 1 ]; then
  stdin=$1; shift
  printf '%s' "$stdin" | "$@"
else
  exec "$@" < /dev/null
fi
"""


def job_argv(job: Job) -> list[str]:
    """The box's command for ``job``."""
    command = ["sh", "-c", job.command] if isinstance(job.command, str) else list(job.command)
    if not job.files and job.stdin is None:
        return command
    args = ["sh", "-c", SCRIPT, "reprobox-job", str(len(job.files))]
    for path, text in job.files:
        args += [path, text]
    args += ["0"] if job.stdin is None else ["1", job.stdin]
    return args + command
