"""The users blueprint: profiles."""
