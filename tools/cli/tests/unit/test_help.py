"""Every command and every option of `mynumber` says what it is for in --help."""

from __future__ import annotations

from collections.abc import Iterator

import click
from click.testing import CliRunner
from mynumber_cli.main import cli


def commands(cmd: click.Command, path: tuple[str, ...] = ("mynumber",)) -> Iterator[tuple[tuple[str, ...],
                                                                                         click.Command]]:
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from commands(sub, (*path, name))


def test_every_command_and_option_has_help() -> None:
    found = list(commands(cli))
    assert len(found) > 40  # the walk reaches the groups' commands (numbering, notice, jpki, ...)
    silent = [" ".join(path) for path, cmd in found if not (cmd.help or cmd.short_help)]
    silent += [f"{' '.join(path)} {p.opts[0]}" for path, cmd in found for p in cmd.params
               if isinstance(p, click.Option) and not p.hidden and not p.help]
    assert silent == []


def test_help_runs_for_every_command() -> None:
    runner = CliRunner()
    for path, _ in commands(cli):
        done = runner.invoke(cli, [*path[1:], "--help"])
        assert done.exit_code == 0 and "Usage: " in done.output, (path, done.output)
