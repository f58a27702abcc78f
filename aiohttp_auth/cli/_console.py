"""Readable terminal output: one block per step, check marks, colour only where it helps.

Colour is used on a terminal only, and never with ``--no-color``, a non-empty
``NO_COLOR`` environment variable (https://no-color.org) or ``TERM=dumb``. The
check marks fall back to ASCII, and other text to escapes, when the output
encoding cannot show them (``PYTHONIOENCODING=ascii``, some Windows consoles).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Final, TextIO

__all__ = ["Check", "Console", "Outcome", "wants_color"]

_ANSI: Final = {"bold": "1", "dim": "2", "red": "31", "green": "32"}
_UNICODE_MARKS: Final = ("✓", "✗")
_ASCII_MARKS: Final = ("OK", "FAIL")
# Width of the label column ("code", "sent", "status") inside a block.
_LABEL_WIDTH: Final = 8


def wants_color(stream: TextIO, *, no_color: bool) -> bool:
    """Tell whether to colour *stream*: a terminal, and nobody asked for plain text."""
    if no_color or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


def _can_encode(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class Check:
    """One verified expectation of a step.

    Attributes:
        ok: whether the expectation held.
        expectation: what should be true, e.g. ``"the server answers 200"``.
        got: what was observed instead, shown only when the check failed.
    """

    ok: bool
    expectation: str
    got: str | None = None


@dataclass
class Outcome:
    """What one step did, as labelled lines, and the checks that verify it.

    A step passes when it made at least one check and every check held.
    """

    title: str
    lines: list[tuple[str, str]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    def say(self, text: str, *, label: str = "") -> None:
        """Add a line; *label* (``"sent"``, ``"status"``) goes in the left column."""
        self.lines.append((label, text))

    def check(self, ok: bool, expectation: str, *, got: object = None) -> bool:
        """Record whether *expectation* held; *got* says what was seen instead. Return *ok*."""
        self.checks.append(Check(ok, expectation, None if got is None else str(got)))
        return ok

    @property
    def passed(self) -> bool:
        """True when the step checked something and every check held."""
        return bool(self.checks) and all(check.ok for check in self.checks)


class Console:
    """Writes outcomes to a text stream, coloured or plain.

    Args:
        stream: where to write, usually ``sys.stdout``.
        color: whether to use ANSI colours (see [`wants_color`][]).
    """

    def __init__(self, stream: TextIO, *, color: bool) -> None:
        self.stream = stream
        self.color = color
        # A stream without an encoding (io.StringIO) holds any text.
        self._encoding = getattr(stream, "encoding", None) or "utf-8"
        unicode = _can_encode("".join(_UNICODE_MARKS), self._encoding)
        self._ok_mark, self._fail_mark = _UNICODE_MARKS if unicode else _ASCII_MARKS

    def paint(self, text: str, *styles: str) -> str:
        """Return *text* in the ANSI *styles* (``"bold"``, ``"red"``...) when colouring."""
        if not self.color or not styles:
            return text
        codes = ";".join(_ANSI[style] for style in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def mark(self, ok: bool) -> str:
        """Return the check mark or the cross, coloured."""
        if ok:
            return self.paint(self._ok_mark, "green", "bold")
        return self.paint(self._fail_mark, "red", "bold")

    def write(self, text: str = "") -> None:
        """Write one line; what the stream cannot encode is shown as backslash escapes."""
        text = text.encode(self._encoding, "backslashreplace").decode(self._encoding)
        print(text, file=self.stream, flush=True)

    def outcome(self, outcome: Outcome) -> None:
        """Write *outcome* as a block: title with its mark, lines, then the checks."""
        self.write(f"{self.mark(outcome.passed)} {self.paint(outcome.title, 'bold')}")
        for label, text in outcome.lines:
            self.write(f"    {self.paint(label.ljust(_LABEL_WIDTH), 'dim')}  {text}")
        for check in outcome.checks:
            line = f"    {self.mark(check.ok)} {check.expectation}"
            if not check.ok and check.got is not None:
                line += f" {self.paint(f'(got {check.got})', 'red')}"
            self.write(line)
        if not outcome.checks:
            self.write(f"    {self.mark(False)} the step verified nothing")
        self.write()
