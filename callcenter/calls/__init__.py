"""Use cases of a hotline call: the glue between SIP bridge, IVR, ACD and records."""
