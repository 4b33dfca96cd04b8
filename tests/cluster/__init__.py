"""Scale-out and fault drills on PostgreSQL (issue #9)."""
