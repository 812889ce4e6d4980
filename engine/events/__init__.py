"""Outward events: the CloudEvents envelope and the opaque cursor over the outbox."""
