"""Primed boxes for the pool: started boxes whose main process waits for its one command.

Written once over :class:`~reprobox.sandbox.backend.BoxAPI`. The pool renews a waiting box's
idle lifetime (:meth:`PrimedBox.renew`); a run sends the command (on the engine, over the
box's init's stdin, its lifeline; on oci, to a launcher that execs it). From then on it
behaves exactly like a one-shot run: the command is the only thing the box runs, a timeout
kills the box (and so every process in it), the box ends itself at its deadline or when its
owner dies, it is removed afterwards, and it is never reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic

from reprobox.engine.containers import ContainerSpec
from reprobox.sandbox.backend import BoxAPI, Events, H, Main, Output
from reprobox.sandbox.oneshot import finished, streamed
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.signals import held, shielded


@dataclass
class PrimedBox(Generic[H]):
    """A started box whose main process waits for one command."""

    api: BoxAPI[H]
    box: H
    policy: Policy
    output: Output

    @classmethod
    def start(cls, api: BoxAPI[H], spec: ContainerSpec, policy: Policy) -> PrimedBox[H]:
        with held() as holder:
            box = api.create(spec, policy, Main("primed"))
        try:
            holder.reraise()
            output = api.start(box)
        except BaseException:
            with shielded():
                api.remove(box)
            raise
        return cls(api, box, policy, output)

    @property
    def container_id(self) -> str:
        return self.box.box_id

    def renew(self) -> bool:
        return self.api.renew(self.box)

    def destroy(self) -> None:
        self.api.remove(self.box)

    def kill(self) -> None:
        self.api.kill(self.box)

    def events(self, cmd: list[str], timeout: float | None) -> Events:
        """Run ``cmd`` as this box's command; yields live output, returns the result. Raises
        :class:`~reprobox.sandbox.backend.BoxGone` (before any output) when the box had
        already ended."""
        try:
            self.api.send(self.box, cmd, timeout)
        except BaseException:
            self.output.close()
            raise
        outcome = yield from streamed(self.output, self.policy, timeout, self.kill)
        return finished(self.api, self.box, outcome)
