"""Parsers for the configuration formats a Jitsi host uses.

Each parser reads text that came from an untrusted target: it never touches the network
or the local filesystem, bounds its own cost, and reports bad input as ConfigParseError.
"""
