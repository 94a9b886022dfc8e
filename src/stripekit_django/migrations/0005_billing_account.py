"""Each mirrored object's account (Connect): a connected account's acct_..., null for the platform."""

from typing import ClassVar

from django.db import migrations, models

_MODELS = (
    "billingcharge",
    "billingcustomer",
    "billingdispute",
    "billinginvoice",
    "billingpurchase",
    "billingrefund",
    "billingsubscription",
)


class Migration(migrations.Migration):
    dependencies: ClassVar[list[tuple[str, str]]] = [("stripekit", "0004_webhookevent_queued")]

    operations = [
        migrations.AddField(
            model_name=name,
            name="account",
            field=models.CharField(
                blank=True,
                help_text="The connected account (Connect) it lives in; empty: the platform's own.",
                max_length=255,
                null=True,
            ),
        )
        for name in _MODELS
    ]
