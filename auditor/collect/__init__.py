"""Collection: the allow-listed plan, the read-only remote collector and its stream decoder."""
