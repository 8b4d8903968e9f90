"""Backend of a telephony-integrated call center for IT desktop support."""

__version__ = "0.1.0"
