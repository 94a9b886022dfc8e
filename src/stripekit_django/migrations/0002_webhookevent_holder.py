"""Who holds a claim, so that one whose process died is taken over at once."""

from typing import ClassVar

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies: ClassVar[list[tuple[str, str]]] = [("stripekit", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="webhookevent",
            name="holder",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="The process holding the claim: one that died is taken over at once.",
                max_length=255,
                null=True,
            ),
        ),
    ]
