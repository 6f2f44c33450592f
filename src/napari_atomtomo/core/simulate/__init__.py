"""Simulated test objects and their tilt series (one module per kind of object)."""
