"""Problem management: problems opened from repeated incidents, and known errors."""
