"""The channels an application comes by and the seed's five hand-over methods, as data: which methods each channel
allows, who submits it, and each method's subsidy weight (the subsidy report of a later slice reads it)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal


class Channel(enum.StrEnum):
    MAIL = "mail"  # the mailed 交付申請書 (申請書ID + photo)
    ONLINE = "online"  # smartphone / PC / photo booth by the form's QR code
    COUNTER = "counter"  # at the municipal counter
    EMPLOYER_BULK = "employer_bulk"  # 勤務先一括申請: the employer sends its employees' forms
    EMPLOYER_VISIT = "employer_visit"  # municipal staff take applications at the employer


class HandoverMethod(enum.IntEnum):
    """Seed F1: ①-⑤ (the numbers are the seed's; the database and the proto keep them)."""

    AT_COLLECTION = 1  # ① 交付時来庁方式
    AT_APPLICATION = 2  # ② 申請時来庁方式
    AT_APPLICATION_RESIDENCE = 3  # ③ 申請時来庁方式 (被災者・DV: the 居所 municipality checks identity)
    EMPLOYER_BULK = 4  # ④ 勤務先一括申請方式
    STAFF_VISIT = 5  # ⑤ 職員が勤務先に出向く一括申請方式


@dataclass(frozen=True)
class ChannelRule:
    methods: tuple[HandoverMethod, ...]
    # Caller kinds that may submit by this channel: the mailed form, the online application and the employer's
    # bundle go to J-LIS's intake (申請書受付センター, an operator identity); the counter and the staff visit are the
    # municipality's own acts (an operator may act for it, audited).
    submitters: tuple[str, ...]


M = HandoverMethod
INTAKE = ("operator",)
MUNICIPAL = ("municipality", "operator")

CHANNELS: dict[Channel, ChannelRule] = {
    # A form sent in by post or online: identity is checked when the card is collected (①).
    Channel.MAIL: ChannelRule((M.AT_COLLECTION,), INTAKE),
    Channel.ONLINE: ChannelRule((M.AT_COLLECTION,), INTAKE),
    # At the counter: identity checked now (② / ③, the card by 本人限定受取郵便), or on collection (①) where the
    # municipality only helps fill the form in.
    Channel.COUNTER: ChannelRule((M.AT_COLLECTION, M.AT_APPLICATION, M.AT_APPLICATION_RESIDENCE), MUNICIPAL),
    Channel.EMPLOYER_BULK: ChannelRule((M.EMPLOYER_BULK,), INTAKE),
    Channel.EMPLOYER_VISIT: ChannelRule((M.STAFF_VISIT,), MUNICIPAL),
}

# Seed I16: cards handed over, weighted by method (A ① 1.00, B ② 1.05, C ③ 1.00, D ④ 1.10, E ⑤ 1.20).
SUBSIDY_WEIGHTS: dict[HandoverMethod, Decimal] = {
    M.AT_COLLECTION: Decimal("1.00"),
    M.AT_APPLICATION: Decimal("1.05"),
    M.AT_APPLICATION_RESIDENCE: Decimal("1.00"),
    M.EMPLOYER_BULK: Decimal("1.10"),
    M.STAFF_VISIT: Decimal("1.20"),
}

# ②, ③ and ⑤ end with the card sent by 本人限定受取郵便 once the home municipality set the PINs from the sealed form.
BY_RESTRICTED_POST = frozenset({M.AT_APPLICATION, M.AT_APPLICATION_RESIDENCE, M.STAFF_VISIT})
