"""The database: engine-independent table maps, migrations and the upgrade from code."""
