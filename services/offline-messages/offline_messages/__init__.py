"""Offline messages: the Message Queue of messages visitors leave when nobody is online."""
