"""Configuration items: categories, relations, maintenance, repair, naming and the asset survey."""
