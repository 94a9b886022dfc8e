"""The shop's own records, written by the webhook handlers."""

from django.db import models


class Order(models.Model):
    session_id = models.CharField(max_length=255, unique=True)
    product = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField(default=1)
    email = models.CharField(max_length=255, null=True)
    amount = models.PositiveIntegerField(null=True)
    currency = models.CharField(max_length=3, null=True)


class Subscription(models.Model):
    id = models.CharField(max_length=255, primary_key=True)
    customer = models.CharField(max_length=255, null=True)
    status = models.CharField(max_length=32)
    last_invoice = models.CharField(max_length=32, null=True)


class CreditBalance(models.Model):
    email = models.CharField(max_length=255, primary_key=True)
    balance = models.IntegerField(default=0)
