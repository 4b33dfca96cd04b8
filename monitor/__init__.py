"""monitor: config, storage, scheduling, the alert engine, incidents, the timeline and the wiring."""
