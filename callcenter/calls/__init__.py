"""Use cases of a hotline call: the glue between the SIP bridge, the IVR, the ACD and the records."""
