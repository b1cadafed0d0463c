"""Every option of every subcommand says what it does, and every subcommand's --help shows an
example (issue 19)."""
import argparse

import pytest

from ranvis.cli import commands as cli


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    p = cli.build_parser()
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_there_are_subcommands():
    assert {"invert", "texture", "style", "demo", "reproduce", "build-net", "layers"} <= set(
        _subparsers())


@pytest.mark.parametrize("name", sorted(_subparsers()))
def test_every_option_has_help_and_the_help_an_example(name):
    s = _subparsers()[name]
    for action in s._actions:
        assert action.help and action.help.strip(), f"{name} {action.option_strings or action.dest}"
    text = s.format_help()
    assert "example" in text.lower()
    assert f"ranvis {name}" in text.split("example", 1)[1]
