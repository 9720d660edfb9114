"""Small shared vocabulary of the domain: schemes, support categories, sexes, roles."""

from __future__ import annotations

from enum import StrEnum


class Scheme(StrEnum):
    """Loại hình tham gia."""

    BHXH_TN = "bhxh_tn"
    BHYT_HGD = "bhyt_hgd"

    @property
    def label(self) -> str:
        return {"bhxh_tn": "BHXH tự nguyện", "bhyt_hgd": "BHYT hộ gia đình"}[self.value]


class SupportCategory(StrEnum):
    """State support category for BHXH tự nguyện (the highest applicable one only)."""

    POOR = "poor"
    NEAR_POOR = "near_poor"
    ETHNIC_MINORITY = "ethnic_minority"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "poor": "Hộ nghèo",
            "near_poor": "Hộ cận nghèo",
            "ethnic_minority": "Dân tộc thiểu số",
            "other": "Đối tượng khác",
        }[self.value]


class PaymentMethod(StrEnum):
    """Phương thức đóng for BHXH tự nguyện; BHYT hộ gia đình uses 3/6/12 months only."""

    MONTHLY = "1"
    QUARTERLY = "3"
    HALF_YEAR = "6"
    YEARLY = "12"
    LUMP_SUM = "lump"  # several future years at once, at most 60 months, discounted

    @property
    def label(self) -> str:
        return {
            "1": "Hằng tháng",
            "3": "3 tháng một lần",
            "6": "6 tháng một lần",
            "12": "12 tháng một lần",
            "lump": "Đóng một lần cho nhiều năm về sau",
        }[self.value]


class Sex(StrEnum):
    MALE = "nam"
    FEMALE = "nu"

    @property
    def label(self) -> str:
        return "Nam" if self is Sex.MALE else "Nữ"


class Role(StrEnum):
    CASHIER = "cashier"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {"cashier": "Thu ngân", "supervisor": "Giám sát", "admin": "Quản trị"}[self.value]
