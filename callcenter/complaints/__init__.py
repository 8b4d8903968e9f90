"""Complaints: the account manager's acknowledgement and resolution in business time."""
