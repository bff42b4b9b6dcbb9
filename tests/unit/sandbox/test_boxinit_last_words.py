"""boxinit's last words: the record at the very end of a box's stderr says whether the OOM
killer struck; a record anywhere else is the command's own output, passed on unchanged."""

from __future__ import annotations

import pytest

from reprobox.sandbox.boxinit import RECORD_END, RECORD_OOM, LastWords


def _through(frames: list[tuple[int, bytes]]) -> tuple[LastWords, bytes, bytes]:
    words = LastWords()
    out = err = b""
    for stream, data in words.frames(frames):
        if stream == 1:
            out += data
        else:
            err += data
    return words, out, err


@pytest.mark.parametrize("cut", range(1, len(RECORD_OOM)))
def test_a_record_split_anywhere_is_read_and_never_shown(cut: int) -> None:
    words, out, err = _through(
        [(2, b"boom\n\0" + RECORD_OOM[:cut]), (1, b"out"), (2, RECORD_OOM[cut:])]
    )
    assert words.oom_killed and words.record == RECORD_OOM
    assert (out, err) == (b"out", b"boom\n\0")


def test_the_end_record_says_no_oom() -> None:
    words, out, err = _through([(1, b"a"), (2, b"b" + RECORD_END)])
    assert words.record == RECORD_END and not words.oom_killed
    assert (out, err) == (b"a", b"b")


def test_a_record_the_command_wrote_is_output_when_more_stderr_follows() -> None:
    words, _, err = _through([(2, RECORD_OOM), (2, b"more"), (2, RECORD_END)])
    assert not words.oom_killed
    assert err == RECORD_OOM + b"more"


def test_without_a_record_nothing_is_lost_and_nothing_is_said() -> None:
    words, out, err = _through([(2, b"x\0[reprobox-in"), (1, b"y")])
    assert words.record is None and not words.oom_killed
    assert (out, err) == (b"y", b"x\0[reprobox-in")
    words, _, err = _through([(2, RECORD_OOM + b"\0")])
    assert words.record is None and err == RECORD_OOM + b"\0"
