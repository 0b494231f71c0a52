"""Appointments: booking a place in a session for oneself or a family member."""
