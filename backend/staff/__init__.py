"""Staff: vaccinator accounts at one center each, created, changed and closed by admins."""
