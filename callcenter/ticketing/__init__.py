"""Accounts, configuration items, tickets and call records: the service desk's memory."""
