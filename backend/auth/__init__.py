"""The auth blueprint: accounts, passwords and tokens."""
