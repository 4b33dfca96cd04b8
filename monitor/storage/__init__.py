"""Storage: the schema, migrations and the functions that are the only code building queries."""
