"""notifiers: channels that deliver what monitor's timeline says (email, X, webhooks, paging).

The channels and the outbox dispatcher arrive with issue #6; this package only consumes
monitor's published events and never changes incident state.
"""
