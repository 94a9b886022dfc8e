"""The event log table."""

from typing import ClassVar

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: ClassVar[list[tuple[str, str]]] = []

    operations = [
        migrations.CreateModel(
            name="WebhookEvent",
            fields=[
                ("id", models.CharField(max_length=255, primary_key=True, serialize=False)),
                ("type", models.CharField(db_index=True, max_length=255)),
                ("livemode", models.BooleanField()),
                ("account", models.CharField(blank=True, max_length=255, null=True)),
                ("created", models.DateTimeField()),
                ("received_at", models.DateTimeField(db_index=True)),
                ("payload", models.BinaryField(help_text="The body exactly as received.")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("processing", "processing"),
                            ("processed", "processed"),
                            ("unhandled", "unhandled"),
                            ("failed", "failed"),
                            ("ignored", "ignored"),
                        ],
                        db_index=True,
                        max_length=16,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("last_error", models.TextField(blank=True, null=True)),
                ("processed_at", models.DateTimeField(blank=True, null=True)),
                ("token", models.CharField(blank=True, editable=False, max_length=64, null=True)),
                ("lease_until", models.DateTimeField(blank=True, editable=False, null=True)),
            ],
            options={
                "verbose_name": "webhook event",
                "db_table": "stripekit_webhook_event",
                "ordering": ("-received_at", "-id"),
            },
        ),
    ]
