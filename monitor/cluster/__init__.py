"""Scale-out: several exwatch processes coordinated through PostgreSQL."""
