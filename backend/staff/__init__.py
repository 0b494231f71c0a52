"""Staff: vaccinator accounts, each attached to one center, created and closed by admins."""
