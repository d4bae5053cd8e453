"""Service errors reach the user in their language, with their parameters, and say what to send."""

from __future__ import annotations

from typing import Any

from core import i18n
from core.services import ledger
from core.services.errors import Conflict, InvalidInput, NotFound


def test_a_refusal_reads_in_chinese_and_in_english_with_its_figures(app: Any) -> None:  # app loads the catalogues
    err = ledger.InsufficientBalance(
        "Not enough points: the balance is %(balance)s, the posting needs %(needed)s.", balance="2.00", needed="5.00"
    )
    try:
        i18n.set_locale("zh_Hans")
        assert err.translate(i18n.gettext) == "积分不足：余额 2.00，需要 5.00。"
        i18n.set_locale("en")
        assert (
            err.translate(i18n.gettext) == str(err) == "Not enough points: the balance is 2.00, the posting needs 5.00."
        )
    finally:
        i18n.set_locale(i18n.DEFAULT_LOCALE)


def test_each_kind_of_refusal_carries_the_status_a_json_api_answers() -> None:
    assert (InvalidInput("x", field="amount").status, InvalidInput("x", field="amount").field) == (400, "amount")
    assert NotFound("x").status == 404 and Conflict("x").status == 409
    assert isinstance(ledger.InsufficientBalance("x"), Conflict)
