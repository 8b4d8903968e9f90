"""Staffing: Erlang C, sizing from the source's rules of thumb, and their CLI."""
