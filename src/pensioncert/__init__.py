"""pensioncert: offline proof-of-life certification for pension entitlement."""

__version__ = "0.1.0"
