"""Simulators for the demo and the tests: a fake Slack Web API, simulated people and an
AWS world on moto that behaves like IAM Identity Center where moto does not.

Not part of the product: ``bot``, ``workflows`` and ``storage`` never import it
(import-linter checks). ``jitbot demo`` loads it lazily; it needs the ``demo`` extra.
"""
