"""Accounts, sign-in, passwords, second factors and the admin pages for them."""
