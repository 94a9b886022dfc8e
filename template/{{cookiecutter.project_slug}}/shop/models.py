"""This shop's own models.

Who has paid for what is not here: it is stripekit's billing state
(``get_kit().billing``), kept in stripekit_django's own tables by its handlers,
in order whatever order Stripe's events arrive in (see its read-only admin).
"""
