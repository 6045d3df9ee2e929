"""Shared code of the live-chat routing services: contracts and common plumbing."""
