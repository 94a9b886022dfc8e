"""The billing mirror: one table per kind of Stripe object, the credits ledger, its balances."""

from typing import ClassVar

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies: ClassVar[list[tuple[str, str]]] = [("stripekit", "0002_webhookevent_holder")]

    operations = [
        migrations.CreateModel(
            name="BillingCharge",
            fields=[
                ("id", models.CharField(max_length=255, primary_key=True, serialize=False)),
                (
                    "version",
                    models.BigIntegerField(
                        help_text="The created time of the event this row was last written from."
                    ),
                ),
                (
                    "event",
                    models.CharField(
                        blank=True, help_text="The id of that event.", max_length=255, null=True
                    ),
                ),
                (
                    "data",
                    models.JSONField(
                        default=dict,
                        help_text="The rest of the object, as the billing state keeps it.",
                    ),
                ),
                (
                    "customer",
                    models.CharField(blank=True, db_index=True, max_length=255, null=True),
                ),
                (
                    "payment_intent",
                    models.CharField(blank=True, db_index=True, max_length=255, null=True),
                ),
            ],
            options={
                "verbose_name": "charge",
                "db_table": "stripekit_billing_charge",
                "ordering": ("-version", "-id"),
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="BillingCustomer",
            fields=[
                ("id", models.CharField(max_length=255, primary_key=True, serialize=False)),
                (
                    "version",
                    models.BigIntegerField(
                        help_text="The created time of the event this row was last written from."
                    ),
                ),
                (
                    "event",
                    models.CharField(
                        blank=True, help_text="The id of that event.", max_length=255, null=True
                    ),
                ),
                (
                    "data",
                    models.JSONField(
                        default=dict,
                        help_text="The rest of the object, as the billing state keeps it.",
                    ),
                ),
                ("email", models.CharField(blank=True, db_index=True, max_length=255, null=True)),
                ("deleted", models.BooleanField(default=False)),
                (
                    "user_ref",
                    models.CharField(
                        blank=True,
                        db_index=True,
                        help_text="The app's reference for the user it belongs to.",
                        max_length=255,
                        null=True,
                        verbose_name="user",
                    ),
                ),
                ("linked_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "verbose_name": "customer",
                "db_table": "stripekit_billing_customer",
                "ordering": ("-version", "-id"),
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="BillingDispute",
            fields=[
                ("id", models.CharField(max_length=255, primary_key=True, serialize=False)),
                (
                    "version",
                    models.BigIntegerField(
                        help_text="The created time of the event this row was last written from."
                    ),
                ),
                (
                    "event",
                    models.CharField(
                        blank=True, help_text="The id of that event.", max_length=255, null=True
                    ),
                ),
                (
                    "data",
                    models.JSONField(
                        default=dict,
                        help_text="The rest of the object, as the billing state keeps it.",
                    ),
                ),
                ("charge", models.CharField(blank=True, db_index=True, max_length=255, null=True)),
                (
                    "payment_intent",
                    models.CharField(blank=True, db_index=True, max_length=255, null=True),
                ),
                ("status", models.CharField(blank=True, db_index=True, max_length=255, null=True)),
            ],
            options={
                "verbose_name": "dispute",
                "db_table": "stripekit_billing_dispute",
                "ordering": ("-version", "-id"),
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="BillingInvoice",
            fields=[
                ("id", models.CharField(max_length=255, primary_key=True, serialize=False)),
                (
                    "version",
                    models.BigIntegerField(
                        help_text="The created time of the event this row was last written from."
                    ),
                ),
                (
                    "event",
                    models.CharField(
                        blank=True, help_text="The id of that event.", max_length=255, null=True
                    ),
                ),
                (
                    "data",
                    models.JSONField(
                        default=dict,
                        help_text="The rest of the object, as the billing state keeps it.",
                    ),
                ),
                (
                    "customer",
                    models.CharField(blank=True, db_index=True, max_length=255, null=True),
                ),
                (
                    "subscription",
                    models.CharField(blank=True, db_index=True, max_length=255, null=True),
                ),
                ("status", models.CharField(blank=True, db_index=True, max_length=255, null=True)),
            ],
            options={
                "verbose_name": "invoice",
                "db_table": "stripekit_billing_invoice",
                "ordering": ("-version", "-id"),
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="BillingPurchase",
            fields=[
                ("id", models.CharField(max_length=255, primary_key=True, serialize=False)),
                (
                    "version",
                    models.BigIntegerField(
                        help_text="The created time of the event this row was last written from."
                    ),
                ),
                (
                    "event",
                    models.CharField(
                        blank=True, help_text="The id of that event.", max_length=255, null=True
                    ),
                ),
                (
                    "data",
                    models.JSONField(
                        default=dict,
                        help_text="The rest of the object, as the billing state keeps it.",
                    ),
                ),
                (
                    "customer",
                    models.CharField(blank=True, db_index=True, max_length=255, null=True),
                ),
                (
                    "user_ref",
                    models.CharField(
                        blank=True, db_index=True, max_length=255, null=True, verbose_name="user"
                    ),
                ),
                ("mode", models.CharField(blank=True, db_index=True, max_length=255, null=True)),
                ("status", models.CharField(blank=True, db_index=True, max_length=255, null=True)),
                (
                    "payment_intent",
                    models.CharField(blank=True, db_index=True, max_length=255, null=True),
                ),
            ],
            options={
                "verbose_name": "purchase",
                "db_table": "stripekit_billing_purchase",
                "ordering": ("-version", "-id"),
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="BillingRefund",
            fields=[
                ("id", models.CharField(max_length=255, primary_key=True, serialize=False)),
                (
                    "version",
                    models.BigIntegerField(
                        help_text="The created time of the event this row was last written from."
                    ),
                ),
                (
                    "event",
                    models.CharField(
                        blank=True, help_text="The id of that event.", max_length=255, null=True
                    ),
                ),
                (
                    "data",
                    models.JSONField(
                        default=dict,
                        help_text="The rest of the object, as the billing state keeps it.",
                    ),
                ),
                ("charge", models.CharField(blank=True, db_index=True, max_length=255, null=True)),
                (
                    "payment_intent",
                    models.CharField(blank=True, db_index=True, max_length=255, null=True),
                ),
                ("status", models.CharField(blank=True, db_index=True, max_length=255, null=True)),
            ],
            options={
                "verbose_name": "refund",
                "db_table": "stripekit_billing_refund",
                "ordering": ("-version", "-id"),
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="BillingSubscription",
            fields=[
                ("id", models.CharField(max_length=255, primary_key=True, serialize=False)),
                (
                    "version",
                    models.BigIntegerField(
                        help_text="The created time of the event this row was last written from."
                    ),
                ),
                (
                    "event",
                    models.CharField(
                        blank=True, help_text="The id of that event.", max_length=255, null=True
                    ),
                ),
                (
                    "data",
                    models.JSONField(
                        default=dict,
                        help_text="The rest of the object, as the billing state keeps it.",
                    ),
                ),
                (
                    "customer",
                    models.CharField(blank=True, db_index=True, max_length=255, null=True),
                ),
                ("status", models.CharField(blank=True, db_index=True, max_length=255, null=True)),
            ],
            options={
                "verbose_name": "subscription",
                "db_table": "stripekit_billing_subscription",
                "ordering": ("-version", "-id"),
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="CreditBalance",
            fields=[
                ("owner", models.CharField(max_length=255, primary_key=True, serialize=False)),
                ("balance", models.BigIntegerField()),
            ],
            options={
                "verbose_name": "credit balance",
                "db_table": "stripekit_billing_balance",
                "ordering": ("owner",),
            },
        ),
        migrations.CreateModel(
            name="CreditLedgerEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("owner", models.CharField(db_index=True, max_length=255)),
                ("amount", models.BigIntegerField()),
                ("reason", models.TextField()),
                ("source", models.CharField(max_length=255, unique=True)),
                ("created_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "credit ledger entry",
                "verbose_name_plural": "credit ledger",
                "db_table": "stripekit_billing_credit",
                "ordering": ("-id",),
            },
        ),
    ]
