"""printing.qr picks exactly the mask ReportLab would, only faster, so symbols are identical."""

from __future__ import annotations

import random

import pytest
from reportlab.graphics.barcode import qrencoder

from printing.qr import mask_penalty, qr_modules

ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ0123456789|-:"


def payloads(count: int) -> list[str]:
    rng = random.Random(20260315)
    return [
        "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 260))) for _ in range(count)
    ] + ["QT1|C01|1042|7KQ29XMD4TR6|3168000|20260315T024112Z|0123456789"]


@pytest.mark.parametrize("payload", payloads(12))
def test_penalty_equals_reportlabs_for_every_mask(payload: str) -> None:
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(payload)
    code.version = code.calculate_version()
    for mask in range(8):
        code.makeImpl(True, mask)
        assert mask_penalty(code.modules) == qrencoder.QRUtil.getLostPoint(code), mask


@pytest.mark.parametrize("payload", payloads(12))
def test_symbol_is_identical_to_reportlabs(payload: str) -> None:
    reference = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    reference.addData(payload)
    reference.make()
    assert qr_modules(payload) == [[bool(m) for m in row] for row in reference.modules]


def test_non_ascii_payload_is_refused() -> None:
    with pytest.raises(ValueError, match="ASCII"):
        qr_modules("Nguyễn")
