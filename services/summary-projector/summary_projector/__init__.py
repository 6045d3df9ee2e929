"""Summary projector: builds the Communication Summary read model from domain events."""
