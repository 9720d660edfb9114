"""The committed OpenAPI document is what the code serves; layering rules of sync/ and central/."""

from __future__ import annotations

import ast
import json
import random
from pathlib import Path

from central.openapi import DEFAULT_OUTPUT, render
from sync.backoff import RetryPolicy, parse_retry_after

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_matches_the_app() -> None:
    assert DEFAULT_OUTPUT.read_text(encoding="utf-8") == render(), (
        "docs/api/openapi.json is stale: run `python -m central.openapi`"
    )


def test_contract_covers_the_issue() -> None:
    doc = json.loads(DEFAULT_OUTPUT.read_text(encoding="utf-8"))
    paths = doc["paths"]
    assert all(p.startswith("/v1/") for p in paths)
    assert {
        "/v1/health": "get",
        "/v1/enroll": "post",
        "/v1/records": "post",
        "/v1/rates": "get",
        "/v1/participants/changes": "get",
        "/v1/xn01": "get",
        "/v1/lookup": "get",
    }.items() <= {p: next(iter(ops)) for p, ops in paths.items()}.items()
    result = doc["components"]["schemas"]["ItemResult"]["properties"]["status"]
    assert result["enum"] == ["accepted", "duplicate", "rejected"]
    assert "signing_key" in doc["components"]["schemas"]["EnrollRequest"]["required"]


def _imports(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
    return found


def test_layering() -> None:
    def top(names: set[str]) -> set[str]:
        return {n.split(".")[0] for n in names}

    assert not top(_imports("sync")) & {"PySide6", "ui", "central"}
    assert not top(_imports("central")) & {"PySide6", "ui"}
    assert not top(_imports("app")) & {"sync", "central", "ui", "PySide6"}


def test_full_jitter_backoff_bounds_and_retry_after_floor() -> None:
    policy = RetryPolicy(base=1.0, cap=8.0)
    rng = random.Random(7)
    for failures, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [policy.delay(failures, None, rng) for _ in range(300)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8 and min(delays) < ceiling * 0.2  # really jittered
    assert all(policy.delay(1, 5.0, rng) >= 5.0 for _ in range(50))
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
