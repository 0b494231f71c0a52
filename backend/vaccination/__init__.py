"""Vaccination: the vaccine catalogue, centers, registrations, review and signed certificates."""
