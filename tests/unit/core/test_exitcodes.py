from __future__ import annotations

import pytest

from reprobox import errors
from reprobox.exitcodes import MEANING, ExitCode, for_error


def test_every_code_is_documented() -> None:
    assert set(MEANING) == set(ExitCode)
    assert all(MEANING[code].strip() for code in ExitCode)


def test_codes_are_unique() -> None:
    values = [int(code) for code in ExitCode]
    assert len(values) == len(set(values))


def test_could_not_run_never_shares_the_findings_code() -> None:
    assert ExitCode.COULD_NOT_RUN != ExitCode.FINDINGS
    assert for_error(errors.EngineUnavailable("x")) is ExitCode.COULD_NOT_RUN
    assert for_error(errors.BuildFailed("x")) is ExitCode.COULD_NOT_RUN


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.UsageError("bad"), ExitCode.USAGE),
        (KeyboardInterrupt(), ExitCode.INTERRUPTED),
        (errors.ImageNotFound("gone"), ExitCode.COULD_NOT_RUN),
        (errors.ReproboxError("any"), ExitCode.COULD_NOT_RUN),
    ],
)
def test_error_mapping(error: BaseException, code: ExitCode) -> None:
    assert for_error(error) is code
