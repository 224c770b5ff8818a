"""The `flask` commands are module-level click commands, registered under their documented names."""
from __future__ import annotations

import click

from hotline.cli import commands as cli, simulate, staff as staff_cli

NAMES = {"import-csv", "outbox", "create-user", "load-demo", "simulate", "set-password", "deactivate-user"}


def test_every_command_is_registered_on_the_app(app):
    assert NAMES <= set(app.cli.commands)


def test_the_app_registers_the_module_level_commands(app):
    for command in (*cli.COMMANDS, *staff_cli.COMMANDS, simulate.simulate):
        assert app.cli.commands[command.name] is command


def test_simulate_has_call_and_sms():
    assert isinstance(simulate.simulate, click.Group)
    assert set(simulate.simulate.commands) == {"call", "sms"}


def test_a_command_runs_in_the_app_context(runner):
    result = runner.invoke(args=["outbox"])
    assert result.exit_code == 0, result.output
    assert "shown of" in result.output
