"""Colour follows https://no-color.org: only on a terminal, never when NO_COLOR is set to a
non-empty value (an empty NO_COLOR does not count) or TERM is dumb."""

from __future__ import annotations

import io

import pytest

from cmpkg import console


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("env", "coloured"),
    [
        ({}, True),
        ({"NO_COLOR": "1"}, False),
        ({"NO_COLOR": "0"}, False),  # any non-empty value
        ({"NO_COLOR": ""}, True),  # empty: as if unset
        ({"TERM": "dumb"}, False),
    ],
)
def test_colour_on_a_terminal_follows_no_color_and_term(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], coloured: bool
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert console.use_colour(Terminal()) is coloured
    styled = console.style("error:", "error", Terminal())
    assert (styled != "error:") is coloured


def test_never_colour_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert console.style("error:", "error", io.StringIO()) == "error:"
