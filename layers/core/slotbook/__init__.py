"""Slotbook: the scheduling core shared by every function."""
