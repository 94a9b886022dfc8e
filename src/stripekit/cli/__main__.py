"""``python -m stripekit.cli``: the same as the ``stripekit`` command."""

from stripekit.cli import main

main()
