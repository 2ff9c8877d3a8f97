"""Credentials at rest: the encrypted vault and where an account's secrets come from.

Secrets are `Secret` values from the moment they are read; they never reach logs or reprs."""
