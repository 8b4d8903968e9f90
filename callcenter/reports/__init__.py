"""The monthly client report: its figures, its rows and its files."""
