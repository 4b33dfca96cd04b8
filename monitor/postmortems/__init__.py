"""Postmortems (#7): written in Markdown by responders, rendered sanitised, published once resolved.

``service.PostmortemService`` saves, publishes and reads them; ``render.render_postmortem``
turns their Markdown into HTML safe for any page; ``links`` decides which link targets survive.
This package imports nothing heavy at the top so the status page can import ``render`` alone.
"""
