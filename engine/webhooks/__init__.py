"""Signed webhooks: endpoints, fan-out of outbox events to deliveries, and the dispatcher."""
