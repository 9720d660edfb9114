"""Logging for front ends: a rotating file in the user log folder. Secrets are never logged."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

import platformdirs

_configured = False


def log_path() -> Path:
    return Path(platformdirs.user_log_dir("QuayThu", appauthor=False)) / "quaythu.log"


def setup_logging(level: int = logging.INFO) -> Path:
    global _configured
    path = log_path()
    if not _configured:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
        )
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(level)
        _configured = True
    return path
