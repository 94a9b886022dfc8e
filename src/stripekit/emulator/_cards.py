"""Stripe's test cards: what each one does when it is saved, charged or asked to authenticate."""

from __future__ import annotations

from dataclasses import dataclass

from ._wire import StripeError

__all__ = ["AUTHENTICATION_FAILED", "TEST_CARDS", "CardDeclined", "TestCard", "find_card"]


@dataclass(frozen=True)
class TestCard:
    """A card number (or its payment method token) and what Stripe does with it."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    number: str
    token: str
    description: str
    decline_code: str | None = None
    """Every charge is declined with this code (None: charges go through)."""
    message: str | None = None
    saves: bool | None = None
    """Whether it can be saved to a customer (attached, set up); default: when charges work."""
    disputes: bool = False
    """A payment goes through, then the cardholder disputes it (``charge.dispute.created``)."""
    authenticates: bool = False
    """3-D Secure is asked when it is set up or pays on-session; not off-session once set up."""
    brand: str = "visa"

    @property
    def succeeds(self) -> bool:
        """Whether a payment with it goes through."""
        return self.decline_code is None

    @property
    def can_be_saved(self) -> bool:
        """Whether attaching it to a customer (or a setup) succeeds."""
        return self.succeeds if self.saves is None else self.saves

    @property
    def last4(self) -> str:
        """The last four digits, as Stripe shows them."""
        return self.number[-4:]


TEST_CARDS: tuple[TestCard, ...] = (
    TestCard("4242424242424242", "pm_card_visa", "Visa: succeeds"),
    TestCard("5555555555554444", "pm_card_mastercard", "Mastercard: succeeds", brand="mastercard"),
    TestCard(
        "4000000000000002",
        "pm_card_chargeDeclined",
        "declined (generic_decline)",
        "generic_decline",
        "Your card was declined.",
    ),
    TestCard(
        "4000000000009995",
        "pm_card_chargeDeclinedInsufficientFunds",
        "declined (insufficient_funds)",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    TestCard(
        "4000000000000069",
        "pm_card_chargeDeclinedExpiredCard",
        "declined (expired_card)",
        "expired_card",
        "Your card has expired.",
    ),
    TestCard(
        "4000000000000259",
        "pm_card_createDispute",
        "succeeds, then the payment is disputed (fraudulent)",
        disputes=True,
    ),
    TestCard(
        "4000000000000341",
        "pm_card_chargeCustomerFail",
        "saved to a customer (a trial, setup mode, attach), but every charge is declined",
        "generic_decline",
        "Your card was declined.",
        saves=True,
    ),
    TestCard(
        "4000002500003155",
        "pm_card_authenticationRequiredOnSetup",
        "3-D Secure when set up or paying on-session (complete or fail it on the page); "
        "off-session payments once set up go through",
        authenticates=True,
    ),
)
"""Stripe's test cards the emulator knows; any other number is refused like Stripe refuses it."""

AUTHENTICATION_FAILED = (
    "We are unable to authenticate your payment method. Please choose a different payment "
    "method and try again."
)
"""What Stripe says when a 3-D Secure challenge fails."""


class CardDeclined(StripeError):
    """Stripe's 402 card_error."""

    def __init__(self, message: str, decline_code: str | None, code: str = "card_declined") -> None:
        super().__init__(402, message, type="card_error", code=code, decline_code=decline_code)


def find_card(number_or_token: str) -> TestCard:
    """The test card for a number or ``pm_card_...`` token; Stripe's refusal for any other."""
    cleaned = number_or_token.replace(" ", "").replace("-", "")
    for card in TEST_CARDS:
        if cleaned in (card.number, card.token):
            return card
    if cleaned.isdigit() and 12 <= len(cleaned) <= 19 and _luhn(cleaned):
        raise CardDeclined(
            "Your card was declined. Your request was in test mode, but used a non test card. "
            "For a list of valid test cards, visit: https://stripe.com/docs/testing.",
            "test_mode_live_card",
        )
    if cleaned.startswith("pm_"):
        raise StripeError(
            404,
            f"No such PaymentMethod: '{cleaned}'",
            code="resource_missing",
            param="payment_method",
        )
    raise CardDeclined(
        "Your card number is incorrect.", "incorrect_number", code="incorrect_number"
    )


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0
