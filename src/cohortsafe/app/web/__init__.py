"""The web application's screens: one module of views per kind of user, on the services.

Views hold no rules of their own: they check who may see what (:mod:`.access`), turn a
form into a service call, and show the outcome.
"""
