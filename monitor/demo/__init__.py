"""The simulated exchange that `exwatch demo` watches, and its scripted scenario."""
