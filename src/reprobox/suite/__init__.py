"""``reprobox test``: a project's test suite in a clean throwaway container.

:func:`run_tests` picks the image (``--image``, else the Dockerfile's final base image read
with :mod:`reprobox.dockerfile`), detects the command, copies the project into a sandbox
(:mod:`reprobox.suite.boxrun`) and returns the suite's exit code in a :class:`TestResult`.
"""

from reprobox.suite.runner import TestResult, TestSpec, run_tests

__all__ = ["TestResult", "TestSpec", "run_tests"]
