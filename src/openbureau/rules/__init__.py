"""Rules that are code: jurisdiction profiles, retention, the disputes clock."""

from openbureau.rules.profiles import PROFILES, Profile, forbidden_match, get_profile

__all__ = ["PROFILES", "Profile", "forbidden_match", "get_profile"]
