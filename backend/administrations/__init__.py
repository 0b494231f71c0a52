"""Administrations: vaccinators record the doses they give, for appointments and walk-ins."""
