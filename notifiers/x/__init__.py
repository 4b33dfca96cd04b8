"""The X channel: incident posts and their replies on X, within X's weighted length.

``length`` counts like X, ``cut`` and ``compose`` make the post, ``client`` builds the tweepy
clients (host rewritten to ``x.api_base_url``), ``outcomes`` reads X's refusals, and
``channel`` puts it together; ``build_x_channel`` is the registry's factory.
"""

from notifiers.x.channel import XPoster, build_x_channel
from notifiers.x.client import MissingCredentialError

__all__ = ["MissingCredentialError", "XPoster", "build_x_channel"]
