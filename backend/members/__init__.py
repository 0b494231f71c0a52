"""Family members (dependants) whose vaccinations an account holder manages."""
