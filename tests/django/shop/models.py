from django.db import models


class Order(models.Model):
    """What the shop's handler writes: the fulfilment a test looks for."""

    session_id = models.CharField(max_length=255, unique=True)
    email = models.CharField(max_length=255, null=True)
