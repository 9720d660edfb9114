"""`quaythu init` prints a one-time recovery code; `quaythu operator recover` reads it from
stdin, sets a new admin password and issues a new code."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.cli.conftest import INIT_ARGS, Cli

NEW = "lua-thom-bac-ninh"


def test_cli_init_prints_a_code_and_recover_reads_it_from_stdin(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: Any = cli.json(*INIT_ARGS)
    code = made["recovery_code"]
    monkeypatch.setattr("sys.stdin", io.StringIO(code + "\n"))
    cli.env["QUAYTHU_NEW_PASSWORD"] = NEW
    done = cli("operator", "recover", "--username", "quantri")
    assert done.returncode == 0, done.stderr
    assert "MÃ KHÔI PHỤC MỚI" in done.stdout and code not in done.stdout
    monkeypatch.setattr("sys.stdin", io.StringIO(code + "\n"))
    again = cli("operator", "recover", "--username", "quantri")
    assert again.returncode == 1 and "không đúng" in again.stderr
    signed = cli("operator", "list", "--user", "quantri", password=NEW)
    assert signed.returncode == 0, signed.stderr
