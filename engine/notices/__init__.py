"""Talking to customers: contacts and recipients, templates, rendering, the notice machine's steps."""
