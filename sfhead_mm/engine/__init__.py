"""Hooks and runner helpers."""
