"""Config reload: re-read the config file, validate it fully, and apply what can change live.

``live.LiveConfig`` is the one holder of the config in force; ``plan`` works out what a new
file changes and what waits for a restart; ``reloader.ConfigReloader`` applies it; ``sighup``
is the signal handler of ``exwatch run``; ``cli`` is ``exwatch config reload --url``. The
submodules are imported directly: this package imports nothing, so services can import the
holder without pulling in the reloader (which imports the engine).
"""
