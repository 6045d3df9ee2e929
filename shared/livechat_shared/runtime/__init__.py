"""Plumbing every service shares: settings, logging, broker topology, consuming, the HTTP app."""
