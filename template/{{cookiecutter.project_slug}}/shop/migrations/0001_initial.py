from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("session_id", models.CharField(max_length=255, unique=True)),
                ("product", models.CharField(max_length=64)),
                ("quantity", models.PositiveIntegerField(default=1)),
                ("email", models.CharField(max_length=255, null=True)),
                ("amount", models.PositiveIntegerField(null=True)),
                ("currency", models.CharField(max_length=3, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="Subscription",
            fields=[
                ("id", models.CharField(max_length=255, primary_key=True, serialize=False)),
                ("customer", models.CharField(max_length=255, null=True)),
                ("status", models.CharField(max_length=32)),
                ("last_invoice", models.CharField(max_length=32, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="CreditBalance",
            fields=[
                ("email", models.CharField(max_length=255, primary_key=True, serialize=False)),
                ("balance", models.IntegerField(default=0)),
            ],
        ),
    ]
