"""The status ``queued``: an event recorded in deferred mode, for a task to run."""

from typing import ClassVar

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies: ClassVar[list[tuple[str, str]]] = [("stripekit", "0003_billing")]

    operations = [
        migrations.AlterField(
            model_name="webhookevent",
            name="status",
            field=models.CharField(
                choices=[
                    ("processing", "processing"),
                    ("processed", "processed"),
                    ("unhandled", "unhandled"),
                    ("failed", "failed"),
                    ("ignored", "ignored"),
                    ("queued", "queued"),
                ],
                db_index=True,
                max_length=16,
            ),
        ),
    ]
