"""The one Dockerfile model that ``lint``, ``build`` and ``test`` read.

Parsing uses the ``dockerfile`` package, a binding of BuildKit's own parser, so line
continuations, heredocs, JSON form and parser directives are read as the builder reads them.
On top of it this package does what the builder does for ``FROM``, and nothing touches the
network or runs a command::

    df = parse(text, "Dockerfile", build_args={"BASE": "reprobox/python:3.11-bookworm"})
    df.problems        # ParseProblem(line, message): unparsable text, unknown instruction,
                       # an instruction before the first FROM, no FROM at all (never raises)
    df.instructions    # Instruction: cmd (upper case), line..end_line (1-based), flags, args,
                       # original text, json form, heredoc bodies, stage index (-1: global),
                       # .commands (RUN split into ShellCommand words), .pairs, .flag(name)
    df.stages          # Stage: index, line, alias (lower case), image (ImageRef), written
                       # (the image as spelled, e.g. "${BASE}"), span (where it is written),
                       # platform (--platform, ARGs expanded), parent_stage, instructions
    df.args            # Arg: name, default (quotes removed, earlier ARGs expanded), value
                       # (build arg > default > global value for a bare ARG in a stage),
                       # line, stage (-1: global), span of the default as written
    df.global_args     # the values of the ARGs before the first FROM (the FROM scope)
    df.base_stages     # the stages that start from an image (not scratch, not a stage)
    df.root(stage)     # the stage a stage ultimately builds on (FROM <stage> followed)

How the builder resolves ``FROM``, and this model with it: only ARGs declared before the first
``FROM`` are in scope; a build argument overrides an ARG's default only when the ARG is declared;
quotes are removed and ``$V``, ``${V}``, ``${V:-x}``, ``${V-x}``, ``${V:+x}``, ``${V+x}`` expanded
(:func:`expand`); ``AS Builder`` names the stage ``builder`` and ``FROM BUILDER`` refers to it;
``scratch`` is the empty image. Unlike the builder, a variable without a value is kept as
written, so ``ImageRef.resolved`` is False and callers can say which ARG needs a value.
A :class:`Span` is ``lines[line - 1][start:end]``, so a tool can rewrite exactly that word.

:mod:`reprobox.dockerfile.bases` turns the model into what a build needs (every base image
resolved, the final stage's base image) or a usage error naming the line and the missing ARG.
"""

from reprobox.dockerfile.model import (
    Arg,
    Dockerfile,
    ImageRef,
    Instruction,
    ParseProblem,
    Span,
    Stage,
)
from reprobox.dockerfile.parser import parse, parse_path
from reprobox.dockerfile.shell import ShellCommand
from reprobox.dockerfile.words import expand

__all__ = [
    "Arg",
    "Dockerfile",
    "ImageRef",
    "Instruction",
    "ParseProblem",
    "ShellCommand",
    "Span",
    "Stage",
    "expand",
    "parse",
    "parse_path",
]
