"""Transports: turn a target into a Snapshot (SSH with paramiko, a local directory, the local host)."""
