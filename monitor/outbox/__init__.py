"""The transactional outbox: which deliveries each timeline event causes, planned in its transaction."""
