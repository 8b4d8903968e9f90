"""People and places: organisations, departments, locations, employees and their phones."""
