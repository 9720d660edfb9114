"""The no-keyring path on purpose: with a keyring that fails (as on Linux without a Secret
Service), `init` refuses unless the secrets file is chosen explicitly; chosen, the file is 0600
in a 0700 folder, holds the signing key, and payments, scheduled commands and Settings use it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends.fail import Keyring as FailKeyring

from app import secrets
from app.errors import ConfigurationError
from tests.cli.conftest import INIT_ARGS, Cli, SubprocessCli


@pytest.fixture
def no_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    path = tmp_path / "config" / "secrets" / "secrets.json"
    monkeypatch.setenv(secrets.SECRETS_FILE_ENV, str(path))
    secrets.forget_signing_keys()
    yield path
    secrets.forget_signing_keys()
    keyring.set_keyring(previous)


def test_without_a_keyring_init_refuses_unless_the_file_is_chosen(
    no_keyring: Path, tmp_path: Path
) -> None:
    cli = Cli(tmp_path)
    refused = cli(*INIT_ARGS)
    assert refused.returncode == 1
    assert "keyring" in refused.stderr and "--keyring-file" in refused.stderr
    assert not no_keyring.exists()  # never chosen silently
    with pytest.raises(ConfigurationError):
        secrets.get_secret("anything")

    done = cli(*INIT_ARGS, "--keyring-file")
    assert done.returncode == 0, done.stderr
    assert str(no_keyring) in done.stdout and "MÃ KHÔI PHỤC" in done.stdout
    assert stat.S_IMODE(no_keyring.stat().st_mode) == 0o600
    assert stat.S_IMODE(no_keyring.parent.stat().st_mode) == 0o700
    assert "signing-key:" in no_keyring.read_text("utf-8")
    assert "secrets.json" in secrets.secrets_file_warning()

    cli.env["QUAYTHU_USER"] = "quantri"
    added = cli(
        "participant",
        "add",
        "--name",
        "Lê Thị Mỹ Đào",
        "--dob",
        "14/03/1985",
        "--sex",
        "nu",
        "--cccd",
        "019185001234",
        "--ma-so",
        "0123456789",
    )
    assert added.returncode == 0, added.stderr
    assert cli("shift", "open", "--total", "0").returncode == 0  # payments need a shift
    paid: Any = cli.json(
        "pay", "--participant", "019185001234", "--scheme", "bhyt_hgd", "--months", "3"
    )
    assert paid["confirmation_code"]
    assert cli.json("verify")["ok"] is True  # type: ignore[index]

    # a file others can read is refused, not used
    os.chmod(no_keyring, 0o644)
    secrets.forget_signing_keys()
    with pytest.raises(ConfigurationError, match="chmod 600"):
        secrets.get_secret("x")


def test_a_scheduled_command_in_its_own_process_uses_the_file(tmp_path: Path) -> None:
    shell = SubprocessCli(tmp_path)
    shell.env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    shell.env[secrets.SECRETS_FILE_ENV] = str(tmp_path / "cfg" / "secrets" / "secrets.json")
    refused = shell(*INIT_ARGS)
    assert refused.returncode == 1 and "--keyring-file" in refused.stderr
    assert shell(*INIT_ARGS, "--keyring-file").returncode == 0
    checked = shell("verify", "--json")
    assert checked.returncode == 0, checked.stderr
