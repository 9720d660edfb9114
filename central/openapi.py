"""Write the OpenAPI document of the central API: `python -m central.openapi [OUTPUT]`.

The committed `docs/api/openapi.json` is this output; a test regenerates it and compares, so the
document cannot drift from the code.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "api" / "openapi.json"


def openapi_document() -> dict[str, Any]:
    from central.api import create_app
    from central.store import CentralStore

    with tempfile.TemporaryDirectory() as tmp:
        store = CentralStore.at_path(Path(tmp) / "openapi.sqlite3")
        try:
            doc: dict[str, Any] = create_app(store).openapi()
        finally:
            store.close()
    return doc


def render() -> str:
    return json.dumps(openapi_document(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else DEFAULT_OUTPUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
