"""Reporters: each renders the same list of TargetResult objects into one format."""
